"""customer_labels for a batch of as-of dates — the Spark twin of `customer_labels.sql`.

repeat_30d = 1 when the customer has a purchase in (T, T + label_window]. dbt counts purchase
days in that window; here the same fact is read off the running totals: purchases up to
T + window minus purchases up to T is positive. Only dates whose window is fully observed
are labelled (see :mod:`backfill.grid`).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from backfill.spec import LABELS_MODEL, enforce


def customer_labels(snapshot: DataFrame, label_window_days: int) -> DataFrame:
    bought_in_window = (F.col("ahead")["cum_purchases"] - F.col("at")["cum_purchases"]) > 0
    labels = snapshot.where("is_label_observed").select(
        "customer_id",
        "as_of_date",
        "event_timestamp",
        F.when(bought_in_window, 1).otherwise(0).cast("bigint").alias("repeat_30d"),
        F.lit(label_window_days).cast("bigint").alias("label_window_days"),
    )
    return enforce(labels, LABELS_MODEL)
