"""The customer_scores table: one row per customer per as-of date, what the marketing team acts on.

Written by `python -m scoring` (and its Spark twin) to ``<SCORES_DIR>/customer_scores.parquet``
(the latest as-of date; SCORES_DIR is ``ingest.paths.pipeline_paths().scores_dir``, default
data/scores) and kept per as-of date under
``<scores_dir>/snapshots/as_of_date=YYYY-MM-DD/customer_scores.parquet`` (monitoring compares
those with the outcomes once their label window has closed). Read by GET /audiences through
DuckDB. This schema is the contract between the writer and every reader: change it here.
"""

from __future__ import annotations

import pyarrow as pa

SCORES_FILE = "customer_scores.parquet"
SNAPSHOTS_DIR = "snapshots"

SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("as_of_date", pa.date32(), nullable=False),
        pa.field("model_version", pa.string(), nullable=False),
        pa.field("probability", pa.float64(), nullable=False),
        pa.field("tier", pa.string(), nullable=False),  # high / medium / low
        pa.field("will_repeat", pa.bool_(), nullable=False),  # the verdict of the same rule
        pa.field("action", pa.string(), nullable=False),
        pa.field("reason_1", pa.string()),  # the top reasons in words, strongest first
        pa.field("reason_2", pa.string()),
        pa.field("reason_3", pa.string()),
        # segment attributes (the bands are the insights mart's, in words)
        pa.field("aov_band", pa.string()),
        pa.field("orders_band", pa.string()),
        pa.field("recency_band", pa.string()),
        pa.field("favourite_category", pa.string()),
        pa.field("preferred_payment_method", pa.string()),
        pa.field("location", pa.string()),
        pa.field("avg_order_value", pa.float64()),
        pa.field("orders_count", pa.int64()),
        pa.field("recency_days", pa.int64()),
        pa.field("scored_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
