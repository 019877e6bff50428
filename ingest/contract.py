"""The raw landing contract shared by ``ingest.generate`` and ``ingest.load``.

The landing zone keeps text exactly as it arrived: every transaction and customer column is a
STRING, and typing, trimming, de-duplicating and rejecting happen in dbt staging. Keeping the
column lists here means the generator, the loader and their tests cannot drift apart.

Conventions the generator follows (and dbt staging may rely on for sample data):

* customer ids are ``'C'`` + 7 digits (``C0000001``);
* order ids are ``'O'`` + digits and unique; a refund row carries the id of the order it
  refunds plus the suffix ``REFUND_SUFFIX`` (``O00000010003-R``), so ids stay unique and the
  refunded order stays findable;
* ``order_date`` is ``'YYYY-MM-DD HH:MM:SS'`` and ``amount`` a plain decimal such as
  ``'1234.50'`` (negative = refund/return) in clean data.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

TRANSACTIONS_FILE = "transactions.parquet"
CUSTOMERS_FILE = "customers.parquet"
GROUND_TRUTH_FILE = "ground_truth.parquet"
SET_ASIDE_DIR = "set_aside"
SET_ASIDE_FILE = "transactions_set_aside.parquet"

TRANSACTION_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "order_id",
    "order_date",
    "amount",
    "category",
    "payment_method",
    "location",
)
REQUIRED_TRANSACTION_COLUMNS: tuple[str, ...] = ("customer_id", "order_date", "amount")
CUSTOMER_COLUMNS: tuple[str, ...] = ("customer_id", "signup_date", "age", "gender", "location")

TRANSACTIONS_SCHEMA = pa.schema([(name, pa.string()) for name in TRANSACTION_COLUMNS])
CUSTOMERS_SCHEMA = pa.schema([(name, pa.string()) for name in CUSTOMER_COLUMNS])
GROUND_TRUTH_SCHEMA = pa.schema(
    [("customer_id", pa.string()), ("as_of_date", pa.date32()), ("p_repeat_30d", pa.float64())]
)

CATEGORIES: tuple[str, ...] = ("groceries", "fashion", "electronics", "home", "beauty", "books")
PAYMENT_METHODS: tuple[str, ...] = ("upi", "card", "cod", "wallet", "netbanking")
GENDERS: tuple[str, ...] = ("female", "male", "other")

CUSTOMER_ID_PATTERN = r"^C\d{7}$"
ORDER_ID_PATTERN = r"^O\d+(-R)?$"
REFUND_SUFFIX = "-R"
ORDER_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def temp_path_for(path: Path) -> Path:
    """A temporary sibling of ``path``: same folder, so ``os.replace`` is an atomic rename."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def publish(temp: Path, final: Path) -> None:
    """Atomically move a fully written temp file into place (readers never see half a file)."""
    os.replace(temp, final)


def discard(temp: Path) -> None:
    """Remove a temp file left by a failed write, if any."""
    temp.unlink(missing_ok=True)


def write_table_atomic(table: pa.Table, path: Path) -> None:
    """Write one Parquet file via a temp name + ``os.replace`` so a crash leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path_for(path)
    try:
        pq.write_table(table, temp)
        publish(temp, path)
    except BaseException:
        discard(temp)
        raise


def remove_stale(out: Path, keep: set[str]) -> list[str]:
    """Delete contract files in ``out`` that this run does not write.

    A raw folder describes one dataset: a ``ground_truth.parquet`` left by the generator next to
    a freshly loaded real log would silently pair the wrong labels with the data.
    """
    candidates = [
        CUSTOMERS_FILE,
        GROUND_TRUTH_FILE,
        TRANSACTIONS_FILE,
        f"{SET_ASIDE_DIR}/{SET_ASIDE_FILE}",
    ]
    removed = []
    for name in candidates:
        if name not in keep and (out / name).exists():
            (out / name).unlink()
            removed.append(name)
    return removed
