"""Calendar facts about a date, from dbt's seeds (the same files `dbt seed` loads).

Mirrors `int_calendar_days`. dbt materialises a day spine from the first order to a year past
the last one; here each fact is a pure function of the date and the seeds, so any as-of date a
backfill asks for gets the same values the spine would hold. The seeds are small and read on
the driver, so executors on a cluster never need the repository on disk.
"""

from __future__ import annotations

import csv
from datetime import date
from functools import cache

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from backfill.spec import SEEDS_DIR


def _read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@cache
def holiday_dates() -> tuple[date, ...]:
    return tuple(
        sorted({date.fromisoformat(r["holiday_date"]) for r in _read_seed("indian_holidays")})
    )


@cache
def festival_seasons() -> tuple[tuple[date, date], ...]:
    return tuple(
        (date.fromisoformat(r["season_start"]), date.fromisoformat(r["season_end"]))
        for r in _read_seed("festival_seasons")
    )


@cache
def known_categories() -> tuple[str, ...]:
    return tuple(r["category"] for r in _read_seed("category_groups"))


def holidays_frame(spark: SparkSession) -> DataFrame:
    """One row per holiday date (several holidays on one day count once)."""
    return spark.createDataFrame([(d,) for d in holiday_dates()], "holiday_date date")


def is_weekend(day: Column) -> Column:
    # Spark's dayofweek is 1 = Sunday … 7 = Saturday (DuckDB's is 0 … 6)
    return F.dayofweek(day).isin(1, 7)


def day_of_week(day: Column) -> Column:
    """0 = Sunday … 6 = Saturday, DuckDB's convention, which the contract uses."""
    return (F.dayofweek(day) - 1).cast("bigint")


def is_festival_season(day: Column) -> Column:
    inside = [day.between(F.lit(start), F.lit(end)) for start, end in festival_seasons()]
    flag = F.lit(False)
    for condition in inside:
        flag = flag | condition
    return flag


def with_as_of_calendar(as_of: DataFrame, spark: SparkSession) -> DataFrame:
    """Add as_of_month, as_of_day_of_week, days_to_next_holiday, is_festival_season to a
    (small) frame of as-of dates."""
    holidays = holidays_frame(spark)
    next_holiday = (
        as_of.select("as_of_date")
        .distinct()
        .join(F.broadcast(holidays), F.col("holiday_date") >= F.col("as_of_date"), "left")
        .groupBy("as_of_date")
        .agg(F.min("holiday_date").alias("next_holiday_date"))
    )
    return (
        as_of.join(next_holiday, "as_of_date", "left")
        .withColumn("as_of_month", F.month("as_of_date").cast("bigint"))
        .withColumn("as_of_day_of_week", day_of_week(F.col("as_of_date")))
        .withColumn(
            "days_to_next_holiday", F.datediff("next_holiday_date", "as_of_date").cast("bigint")
        )
        .withColumn("is_festival_season", is_festival_season(F.col("as_of_date")))
        .drop("next_holiday_date")
    )
