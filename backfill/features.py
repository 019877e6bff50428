"""customer_features for a batch of as-of dates — the Spark twin of `customer_features.sql`.

Each expression below is the dbt mart's, column for column, with DuckDB's arithmetic kept:
doubles where DuckDB computes in double (Spark would otherwise divide decimals and round at
scale 6), the same order of operations for the gap spread, day of week shifted to 0 = Sunday.
The column list, order and types are not declared here: :func:`backfill.spec.enforce` checks
the result against customer_features.yml, and the windowed counts are derived from it
(every `orders_<N>d` column in the contract is a window of N days).
"""

from __future__ import annotations

import re
from functools import cache

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from backfill.spec import FEATURES_MODEL, SchemaMismatch, contract, enforce


@cache
def feature_windows() -> tuple[int, ...]:
    """The look-back windows, in days, that the contract has orders_/spend_ columns for."""
    names = {c.name for c in contract(FEATURES_MODEL)}
    windows = tuple(
        sorted(int(m.group(1)) for n in names if (m := re.fullmatch(r"orders_(\d+)d", n)))
    )
    if missing := [f"spend_{w}d" for w in windows if f"spend_{w}d" not in names]:
        raise SchemaMismatch(f"customer_features.yml has orders_ but not {missing}")
    return windows


def _days(later: str | Column, earlier: str | Column) -> Column:
    return F.datediff(later, earlier).cast("bigint")


def customer_features(snapshot: DataFrame, calendar: DataFrame) -> DataFrame:
    """One row per (customer_id, as_of_date) of ``snapshot`` (see :mod:`backfill.job`)."""
    at = F.col("at")
    n = at["cum_purchases"]
    days = at["cum_purchase_days"]
    first, last = at["first_purchase_date"], at["last_purchase_date"]
    as_of = F.col("as_of_date")
    tenure_inclusive = _days(as_of, first) + 1
    span = F.datediff(last, first).cast("double")  # days from first to last purchase day

    columns: dict[str, Column] = {
        "customer_id": F.col("customer_id"),
        "as_of_date": as_of,
        "event_timestamp": F.col("event_timestamp"),
        # recency, frequency, monetary
        "recency_days": _days(as_of, last),
        "tenure_days": _days(as_of, first),
        "orders_count": n,
        "purchase_days": days,
        "total_spend": at["cum_spend"].cast("double"),
        "avg_order_value": at["cum_spend"].cast("double") / n,
        "orders_per_month": n.cast("double") * 30.0 / tenure_inclusive,
        "spend_per_day": at["cum_spend"].cast("double") / tenure_inclusive,
    }
    # windows ending at the as-of date: (T − w, T]
    for w in feature_windows():
        before = F.col(f"at_minus_{w}")
        columns[f"orders_{w}d"] = n - F.coalesce(before["cum_purchases"], F.lit(0))
        columns[f"spend_{w}d"] = (at["cum_spend"] - F.coalesce(before["cum_spend"], F.lit(0))).cast(
            "double"
        )
    columns["orders_trend_90d"] = (columns["orders_90d"] + 1.0) / (
        columns["orders_180d"] - columns["orders_90d"] + 1.0
    )
    # rhythm: gaps between purchase days (same operation order as the SQL, in doubles)
    mean_gap = span / (days - 1)
    columns["mean_gap_days"] = F.when(days >= 2, mean_gap)
    columns["std_gap_days"] = F.when(
        days >= 3,
        F.sqrt(
            F.greatest(
                (
                    at["cum_gap_days_squared"].cast("double")
                    - span * F.datediff(last, first) / (days - 1)
                )
                / (days - 2),
                F.lit(0.0),
            )
        ),
    )
    columns["recency_gap_ratio"] = F.when(
        (days >= 2) & (last > first), F.datediff(as_of, last) / mean_gap
    )
    # returns
    columns["returns_count"] = at["cum_returns"]
    columns["returns_amount"] = at["cum_returns_amount"].cast("double")
    # what and how they buy
    category = F.col("category")
    columns["distinct_categories"] = F.coalesce(category["distinct_values"], F.lit(0)).cast(
        "bigint"
    )
    columns["favourite_category"] = category["value"]
    columns["favourite_category_share"] = category["orders"].cast("double") / n
    columns["preferred_payment_method"] = F.col("payment_method")["value"]
    columns["weekend_order_share"] = at["cum_weekend_purchases"].cast("double") / n
    # among purchases on days the holiday calendar covers; null when none is (as dbt)
    covered = at["cum_calendar_purchases"]
    columns["holiday_order_share"] = F.when(
        covered > 0, at["cum_holiday_purchases"].cast("double") / covered
    )
    # the as-of date on the calendar
    for name in ("as_of_month", "as_of_day_of_week", "days_to_next_holiday", "is_festival_season"):
        columns[name] = F.col(name)
    # profile: the customer file, else the first purchase's location
    columns["age"] = F.col("age").cast("bigint")
    columns["gender"] = F.col("gender")
    columns["location"] = F.coalesce(
        F.col("profile_location"),
        F.when(F.col("first_location_date") <= F.col("as_of_date"), F.col("first_location")),
    )
    columns["days_since_signup"] = F.when(
        F.col("signup_date") <= as_of, _days(as_of, F.col("signup_date"))
    )

    joined = snapshot.join(F.broadcast(calendar), "as_of_date", "left")
    return enforce(joined.select(*(c.alias(name) for name, c in columns.items())), FEATURES_MODEL)
