"""Per-customer running state, one row per customer per day on which it changes.

Mirrors `int_customer_days` (counts, spend, returns and their running totals) and
`int_customer_preferences` (running purchase counts per category and payment method). The
favourite category and preferred payment method are resolved here, once per day on which a
purchase changes them, rather than once per as-of date: the state at T is then simply the last
row on or before T (see :mod:`backfill.asof`), and the cost grows with orders, not with
customers × as-of dates × history.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from backfill.calendar import covered_years_frame, holidays_frame, is_weekend

DAY_STATE_FIELDS = (
    "cum_purchases",
    "cum_spend",
    "cum_returns",
    "cum_returns_amount",
    "cum_weekend_purchases",
    "cum_holiday_purchases",
    "cum_calendar_purchases",
    "cum_purchase_days",
    "first_purchase_date",
    "last_purchase_date",
    "cum_gap_days_squared",
)


def customer_days(transactions: DataFrame) -> DataFrame:
    """(customer_id, activity_date, day: struct of running totals up to and including it)."""
    # is_holiday: true / false on days of covered years, null on the others (int_calendar_days)
    spark = transactions.sparkSession
    covered = covered_years_frame(spark).withColumn("covered", F.lit(True))
    holidays = holidays_frame(spark).select(
        F.col("holiday_date").alias("order_date"), F.lit(True).alias("holiday")
    )
    purchase = F.col("is_purchase")
    daily = (
        transactions.withColumn("calendar_year", F.year("order_date"))
        .join(F.broadcast(covered), "calendar_year", "left")
        .join(F.broadcast(holidays), "order_date", "left")
        .withColumn(
            "is_holiday",
            F.when(F.col("covered"), F.col("holiday").isNotNull()),
        )
        .groupBy("customer_id", F.col("order_date").alias("activity_date"))
        .agg(
            F.count_if(purchase).alias("purchases"),
            F.coalesce(F.sum(F.when(purchase, F.col("amount"))), F.lit(0)).alias("spend"),
            F.count_if(~purchase).alias("returns"),
            F.coalesce(-F.sum(F.when(~purchase, F.col("amount"))), F.lit(0)).alias(
                "returns_amount"
            ),
            F.count_if(purchase & is_weekend(F.col("order_date"))).alias("weekend_purchases"),
            F.count_if(purchase & F.col("is_holiday")).alias("holiday_purchases"),
            F.count_if(purchase & F.col("is_holiday").isNotNull()).alias("calendar_purchases"),
        )
    )
    by_customer = Window.partitionBy("customer_id").orderBy("activity_date")
    running = by_customer.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    before = by_customer.rowsBetween(Window.unboundedPreceding, -1)
    purchase_date = F.when(F.col("purchases") > 0, F.col("activity_date"))
    gap = F.datediff("activity_date", "previous_purchase_date").cast("bigint")
    return (
        daily.withColumn("previous_purchase_date", F.max(purchase_date).over(before))
        .withColumn(
            "gap_days_squared",
            F.when(
                (F.col("purchases") > 0) & F.col("previous_purchase_date").isNotNull(), gap * gap
            ),
        )
        .select(
            "customer_id",
            "activity_date",
            F.struct(
                F.sum("purchases").over(running).alias("cum_purchases"),
                F.sum("spend").over(running).alias("cum_spend"),
                F.sum("returns").over(running).alias("cum_returns"),
                F.sum("returns_amount").over(running).alias("cum_returns_amount"),
                F.sum("weekend_purchases").over(running).alias("cum_weekend_purchases"),
                F.sum("holiday_purchases").over(running).alias("cum_holiday_purchases"),
                F.sum("calendar_purchases").over(running).alias("cum_calendar_purchases"),
                F.count(purchase_date).over(running).alias("cum_purchase_days"),
                F.min(purchase_date).over(running).alias("first_purchase_date"),
                F.max(purchase_date).over(running).alias("last_purchase_date"),
                F.sum("gap_days_squared").over(running).alias("cum_gap_days_squared"),
            ).alias("day"),
        )
    )


def preference_days(transactions: DataFrame, preference: str) -> DataFrame:
    """(customer_id, activity_date, <preference>: struct(value, orders, distinct_values)) on
    every day a purchase with that preference changes the customer's counts.

    value is the one with the most purchases so far, ties to the alphabetically first (the
    rule the contract states); orders its purchase count; distinct_values how many values
    have been bought so far."""
    daily = (
        transactions.where(F.col("is_purchase") & F.col(preference).isNotNull())
        .groupBy(
            "customer_id",
            F.col(preference).alias("value"),
            F.col("order_date").alias("activity_date"),
        )
        .agg(F.count("*").alias("purchases"))
    )
    # every (value, change day) pair of a customer, so each day sees every value's count
    days = daily.select("customer_id", "activity_date").distinct()
    values = daily.select("customer_id", "value").distinct()
    per_value = (
        Window.partitionBy("customer_id", "value")
        .orderBy("activity_date")
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    counts = (
        days.join(values, "customer_id")
        .join(daily, ["customer_id", "value", "activity_date"], "left")
        .withColumn("orders", F.sum("purchases").over(per_value))
        .where(F.col("orders").isNotNull())  # values not bought yet on that day
    )
    per_day = Window.partitionBy("customer_id", "activity_date")
    ranked = per_day.orderBy(F.col("orders").desc(), F.col("value").asc())
    return (
        counts.withColumn("rank", F.row_number().over(ranked))
        .withColumn("distinct_values", F.count("*").over(per_day))
        .where("rank = 1")
        .select(
            "customer_id",
            "activity_date",
            F.struct("value", "orders", "distinct_values").alias(preference),
        )
    )
