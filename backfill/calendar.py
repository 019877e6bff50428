"""Calendar facts about a date for Spark, from the holiday calendar of :mod:`ingest.holidays`.

Mirrors `int_calendar_days`. dbt materialises a day spine from the first order to a year past
the last one; here each fact is computed by :class:`ingest.holidays.Calendar` (the same seeds,
the same "NULL outside the covered years" rule) on the driver, for the few dates that need it,
and shipped to Spark as a small frame, so executors on a cluster never need the repository on
disk.
"""

from __future__ import annotations

from functools import cache

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from ingest.holidays import Calendar, load_calendar


@cache
def calendar() -> Calendar:
    return load_calendar()


def covered_years_frame(spark: SparkSession) -> DataFrame:
    """One row per year the holiday calendar covers."""
    return spark.createDataFrame([(y,) for y in sorted(calendar().seasons)], "calendar_year int")


def holidays_frame(spark: SparkSession) -> DataFrame:
    """One row per holiday date."""
    return spark.createDataFrame([(d,) for d in calendar().holidays], "holiday_date date")


def is_weekend(day: Column) -> Column:
    # Spark's dayofweek is 1 = Sunday … 7 = Saturday (DuckDB's is 0 … 6)
    return F.dayofweek(day).isin(1, 7)


def day_of_week(day: Column) -> Column:
    """0 = Sunday … 6 = Saturday, DuckDB's convention, which the contract uses."""
    return (F.dayofweek(day) - 1).cast("bigint")


def with_as_of_calendar(as_of: DataFrame, spark: SparkSession) -> DataFrame:
    """Add as_of_month, as_of_day_of_week, days_to_next_holiday, is_festival_season to a
    (small) frame of as-of dates."""
    cal = calendar()
    days = [r["as_of_date"] for r in as_of.select("as_of_date").distinct().collect()]
    facts = spark.createDataFrame(
        [(d, cal.days_to_next_holiday(d), cal.is_festival_season(d)) for d in days],
        "as_of_date date, days_to_next_holiday bigint, is_festival_season boolean",
    )
    return (
        as_of.join(F.broadcast(facts), "as_of_date", "left")
        .withColumn("as_of_month", F.month("as_of_date").cast("bigint"))
        .withColumn("as_of_day_of_week", day_of_week(F.col("as_of_date")))
    )
