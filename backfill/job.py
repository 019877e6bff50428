"""One backfill run: stage once, build the running state once, then per batch of as-of dates
look the state up, derive features and labels, and publish their partitions.

The per-customer state (`history`) and the profiles are cached for the whole run; each batch
costs one sort of (state rows + customers × dates-in-batch × probes) per customer.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from tqdm import tqdm

from backfill import grid
from backfill.asof import last_on_or_before
from backfill.calendar import with_as_of_calendar
from backfill.features import customer_features, feature_windows
from backfill.history import customer_days, preference_days
from backfill.labels import customer_labels
from backfill.publish import PartitionStore
from backfill.spec import FEATURES_MODEL, LABELS_MODEL
from backfill.staging import stage

log = logging.getLogger("backfill")


@dataclass
class BackfillRequest:
    input_dir: str
    output_dir: str
    start: date
    end: date | None  # None: the latest purchase date in the data
    every_days: int
    label_window_days: int
    dates_per_batch: int = 8
    resume: bool = False
    now: datetime | None = None  # the "future order date" cut-off; None: the clock, UTC
    progress: bool = True


@dataclass
class BackfillSummary:
    rows_in: int = 0
    rows_clean: int = 0
    rows_duplicate: int = 0
    rejects: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)  # rows per duplicate rule
    customers: int = 0
    as_of_dates: list[date] = field(default_factory=list)
    skipped_complete: int = 0
    feature_partitions: int = 0
    label_partitions: int = 0
    feature_rows: int = 0
    label_rows: int = 0
    latest_purchase_date: date | None = None
    seconds: float = 0.0

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejects.values())

    def lines(self) -> list[str]:
        rejected = self.rows_rejected
        reasons = ", ".join(f"{k}={v:,}" for k, v in sorted(self.rejects.items())) or "none"
        rules = ", ".join(f"{k}={v:,}" for k, v in sorted(self.duplicates.items())) or "none"
        return [
            f"rows in {self.rows_in:,}: clean {self.rows_clean:,}, duplicates "
            f"{self.rows_duplicate:,} ({rules}), rejected {rejected:,} ({reasons})",
            f"{self.customers:,} customers with a purchase; latest purchase date "
            f"{self.latest_purchase_date}",
            f"as-of dates {len(self.as_of_dates)} "
            f"({min(self.as_of_dates, default='-')} … {max(self.as_of_dates, default='-')}), "
            f"{self.skipped_complete} already complete and skipped",
            f"partitions written: customer_features {self.feature_partitions} "
            f"({self.feature_rows:,} rows), customer_labels {self.label_partitions} "
            f"({self.label_rows:,} rows)",
            f"{self.seconds:.1f} s",
        ]


def _first_purchase_locations(transactions: DataFrame) -> DataFrame:
    # dbt's first_locations: the first located purchase, with its date so a feature at T only
    # uses it when it happened on or before T
    first = Window.partitionBy("customer_id").orderBy("ordered_at", "raw_file", "raw_row_id")
    return (
        transactions.where(F.col("is_purchase") & F.col("location").isNotNull())
        .withColumn("_rank", F.row_number().over(first))
        .where("_rank = 1")
        .select(
            "customer_id",
            F.col("location").alias("first_location"),
            F.col("order_date").alias("first_location_date"),
        )
    )


def _profiles(days: DataFrame, transactions: DataFrame, customers: DataFrame) -> DataFrame:
    """One row per customer with a purchase: first purchase date and static profile."""
    first_purchase = (
        days.where(F.col("day.cum_purchases") > 0)
        .groupBy("customer_id")
        .agg(F.min("activity_date").alias("first_purchase_date"))
    )
    return first_purchase.join(
        customers.withColumnRenamed("location", "profile_location"), "customer_id", "left"
    ).join(_first_purchase_locations(transactions), "customer_id", "left")


def _snapshot(
    spark: SparkSession,
    dates: list[date],
    latest: date,
    label_window: int,
    profiles: DataFrame,
    states: dict[str, DataFrame],
) -> DataFrame:
    """(customer_id, as_of_date, event_timestamp, is_label_observed, profile…, at,
    at_minus_<w>…, ahead, category, payment_method) for every customer in the population of
    each date: state structs as of T, T − w and T + label window."""
    as_of = spark.createDataFrame(
        [(d, grid.is_label_observed(d, latest, label_window)) for d in dates],
        "as_of_date date, is_label_observed boolean",
    ).withColumn(
        "event_timestamp",
        F.col("as_of_date").cast("timestamp_ntz") + F.expr("INTERVAL 86399 SECONDS"),
    )
    population = profiles.join(
        F.broadcast(as_of), F.col("first_purchase_date") <= F.col("as_of_date")
    )
    offsets = [0, *feature_windows(), -label_window]  # days back; negative = ahead
    probes = (
        population.select("customer_id", "as_of_date", "is_label_observed")
        .crossJoin(F.broadcast(spark.createDataFrame([(o,) for o in offsets], "days_back int")))
        .where((F.col("days_back") >= 0) | F.col("is_label_observed"))
        .select(
            "customer_id",
            "as_of_date",
            "days_back",
            F.date_sub("as_of_date", F.col("days_back")).alias("probe_date"),
        )
    )
    horizon = max(dates) + timedelta(days=label_window)
    looked_up = last_on_or_before(
        probes,
        {name: s.where(F.col("activity_date") <= F.lit(horizon)) for name, s in states.items()},
    )

    def at(days_back: int, column: str = "day"):
        return F.first(F.when(F.col("days_back") == days_back, F.col(column)), ignorenulls=True)

    pivoted = looked_up.groupBy("customer_id", "as_of_date").agg(
        at(0).alias("at"),
        *(at(w).alias(f"at_minus_{w}") for w in feature_windows()),
        at(-label_window).alias("ahead"),
        at(0, "category").alias("category"),
        at(0, "payment_method").alias("payment_method"),
    )
    return population.join(pivoted, ["customer_id", "as_of_date"])


def run(spark: SparkSession, request: BackfillRequest) -> BackfillSummary:
    started = time.perf_counter()
    summary = BackfillSummary()
    now = request.now or datetime.now(UTC).replace(tzinfo=None)
    log.info("staging %s (orders after %s count as future)", request.input_dir, now)
    staged = stage(spark, request.input_dir, now)
    summary.rows_in, summary.rows_clean = staged.rows_in, staged.rows_clean
    summary.rows_duplicate, summary.rejects = staged.rows_duplicate, staged.rejects
    summary.duplicates = staged.duplicates

    transactions = staged.transactions.persist(StorageLevel.MEMORY_AND_DISK)
    states = {
        "day": customer_days(transactions),
        "category": preference_days(transactions, "category"),
        "payment_method": preference_days(transactions, "payment_method"),
    }
    states = {k: v.persist(StorageLevel.MEMORY_AND_DISK) for k, v in states.items()}
    profiles = _profiles(states["day"], transactions, staged.customers).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    bounds = (
        transactions.where("is_purchase")
        .agg(F.min("order_date").alias("first"), F.max("order_date").alias("latest"))
        .first()
    )
    summary.customers = profiles.count()
    if bounds["latest"] is None:
        raise SystemExit("no usable purchase in the input: nothing to backfill")
    summary.latest_purchase_date = latest = bounds["latest"]
    end = request.end or latest
    dates = grid.as_of_dates(request.start, end, request.every_days, first=bounds["first"])
    if dropped := len(grid.as_of_dates(request.start, end, request.every_days)) - len(dates):
        log.info("%d as-of dates before the first purchase (%s) dropped", dropped, bounds["first"])
    summary.as_of_dates = sorted(dates)

    store = PartitionStore(spark, request.output_dir)
    store.clear_stale_staging()
    if request.resume:

        def done(d: date) -> bool:
            return store.is_complete(FEATURES_MODEL, d) and (
                not grid.is_label_observed(d, latest, request.label_window_days)
                or store.is_complete(LABELS_MODEL, d)
            )

        todo = [d for d in dates if not done(d)]
        summary.skipped_complete = len(dates) - len(todo)
        dates = todo

    batches = grid.batches(dates, request.dates_per_batch)
    for batch in tqdm(batches, desc="as-of batches", unit="batch", disable=not request.progress):
        batch_started = time.perf_counter()
        snapshot = _snapshot(
            spark, batch, latest, request.label_window_days, profiles, states
        ).persist(StorageLevel.MEMORY_AND_DISK)
        labelled = [
            d for d in batch if grid.is_label_observed(d, latest, request.label_window_days)
        ]
        counts = snapshot.agg(
            F.count("*").alias("rows"), F.count_if("is_label_observed").alias("labelled")
        ).first()
        calendar = with_as_of_calendar(
            spark.createDataFrame([(d,) for d in batch], "as_of_date date"), spark
        )
        summary.feature_partitions += len(
            store.write_batch(customer_features(snapshot, calendar), FEATURES_MODEL, batch)
        )
        if labelled:
            summary.label_partitions += len(
                store.write_batch(
                    customer_labels(snapshot, request.label_window_days), LABELS_MODEL, labelled
                )
            )
        snapshot.unpersist()
        summary.feature_rows += counts["rows"]
        summary.label_rows += counts["labelled"]
        log.info(
            "as-of %s … %s: %d dates, %s feature rows, %d labelled dates, %.1f s",
            batch[0],
            batch[-1],
            len(batch),
            f"{counts['rows']:,}",
            len(labelled),
            time.perf_counter() - batch_started,
        )
    store.finish()
    for frame in (transactions, profiles, staged.typed, *states.values()):
        frame.unpersist()
    summary.seconds = time.perf_counter() - started
    return summary
