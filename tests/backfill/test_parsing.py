"""Staging's parsers against DuckDB itself, string by string.

dbt staging types raw text with DuckDB's try_strptime / try_cast; the backfill re-implements
those grammars (backfill/staging.py). Each corpus mixes what exports really contain with the
edge cases where Spark's own functions would disagree with DuckDB.
"""

from __future__ import annotations

import duckdb
import pytest
from pyspark.sql import functions as F

from backfill import staging
from tests.dbt.compiled_macros import evaluate
from tests.ingest.test_customer_ids import HOSTILE_IDS

TIMESTAMPS = [
    "2024-01-05 10:00:00",
    "2024-1-5 9:5:1",
    "2024-01-05",
    "2024-1-5",
    " 2024-01-05 ",
    "2024-01-05\t",
    "\t2024-01-05",
    "2024-01-05  10:00:00",
    "2024-01-05 \t10:00:00",
    "2024-01-05 10:00:0",
    "2024-02-29",
    "2023-02-29",
    "2024-02-30",
    "2024-00-10",
    "2024-01-00",
    "2024-13-45 25:61:00",
    "31/02/2024",
    "00/00/0000",
    "not a date",
    "",
    " ",
    "2024-01-05T10:00:00",
    "2024-01-05 10:00:00.5",
    "2024-01-05 10:00",
    "2024-01-05 24:00:00",
    "2024-01-05 23:59:60",
    "2024-01-0510:00:00",
    "+2024-01-05",
    "-2024-01-05",
    "12024-01-05",
    "24-01-05",
    "2024-01-05 010:00:00",
    "2024-001-05",
    "２０２４-01-05",
    "2024-01-05\u00a0",
    "2024-01-05x",
    "2024-01-05 x",
    "2024-01-05 10:00:00\n",
    # DuckDB's strptime reads these words as 1900-01-01 whatever the format; staging does not
    "infinity",
    "-infinity",
    "epoch",
    " Epoch ",
    "0001-01-01",
    "1900-01-01",
    None,
]
NUMBERS = [
    "12.5",
    "12.505",
    "12.515",
    "-12.505",
    "1e3",
    "1E-2",
    ".5",
    "5.",
    "+5",
    "-.5",
    "+.5",
    "12,50x",
    "abc",
    "N/A",
    "1.2.3",
    "  7 ",
    "",
    " ",
    "0",
    "0.00",
    "-0.001",
    "0.004",
    "0.005",
    "99999999999999999",
    "9999999999999999.99",
    "9999999999999999.995",
    "1e15",
    "1e16",
    "1e20",
    "nan",
    "inf",
    "1_000",
    "1__000",
    "_1000",
    "1000_",
    "1_000.5_0",
    "1.5e1_0",
    "1.5_e1",
    ".",
    "e5",
    "1e",
    "1.0e",
    "1.2e+1",
    "+-1",
    "--1",
    "\t5\n",
    "1 000",
    "１２",
    "₹100",
    "-0",
    None,
]
AGES = [
    "42",
    "42.0",
    "42.5",
    "43.5",
    "-0.5",
    "0.5",
    "-42.5",
    "2147483647",
    "2147483648",
    "2147483647.4",
    "1e2",
    "4.2e1",
    "1_0",
    "4_2.5",
    " 42",
    "42 ",
    "+42",
    "00042",
    "abc",
    "",
    "1.5e0",
    None,
]
DATES = [
    "2024-01-05",
    "2024-1-5",
    " 2024-01-05 ",
    "2024/01/05",
    "2024 01 05",
    "2024-01/05",
    "2024.01.05",
    "20240105",
    "2024-02-30",
    "2023-02-29",
    "05/01/2024",
    "not a date",
    "",
    "2024-01-05 10:00:00",
    "2024-01-05T10:00:00",
    "2024-01-05 10:00",
    "2024-01-05 garbage",
    "2024-01-05T",
    "2024-01-05x",
    "02024-01-05",
    "24-01-05",
    "2024-01-05\t",
    None,
]

CASES = {
    "decimal": (NUMBERS, staging.parse_decimal, "try_cast(trim(v) as decimal(18, 2))"),
    "integer": (AGES, staging.parse_integer, "try_cast(trim(v) as integer)"),
    "date": (DATES, staging.parse_date, "try_cast(trim(v) as date)"),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_parser_agrees_with_duckdb(spark, kind):
    corpus, parse, duckdb_expression = CASES[kind]
    with duckdb.connect() as con:
        expected = [
            con.execute(
                f"select {duckdb_expression} from (select ?::varchar as v)", [text]
            ).fetchone()[0]
            for text in corpus
        ]
    frame = spark.createDataFrame([(i, t) for i, t in enumerate(corpus)], "i int, v string")
    actual = [r[0] for r in frame.orderBy("i").select(parse(F.col("v"))).collect()]
    differences = [
        (text, e, a) for text, e, a in zip(corpus, expected, actual, strict=True) if e != a
    ]
    assert not differences, f"{kind}: (input, duckdb, spark) {differences}"


def _spark_column(spark, corpus, expression) -> list:
    frame = spark.createDataFrame([(i, t) for i, t in enumerate(corpus)], "i int, v string")
    return [r[0] for r in frame.orderBy("i").select(expression).collect()]


def test_order_timestamps_agree_with_the_compiled_dbt_macros(spark):
    """The parser and the time-of-day test that picks the duplicate rule, against the SQL
    dbt compiles from dbt_project/macros/order_date.sql."""
    duck = evaluate(TIMESTAMPS)
    text = F.col("v")
    ordered_at = staging.parse_order_timestamp(text)
    actual = _spark_column(
        spark,
        TIMESTAMPS,
        F.struct(
            ordered_at,
            F.coalesce(F.trim(text).rlike(staging.TIMESTAMP_PATTERN) & ordered_at.isNotNull(),
                       F.lit(False)),
        ),
    )  # fmt: skip
    expected = [(r["ordered_at"], r["has_time_of_day"]) for r in duck]
    differences = [
        (t, e, tuple(a)) for t, e, a in zip(TIMESTAMPS, expected, actual, strict=True)
        if e != tuple(a)
    ]  # fmt: skip
    assert not differences, f"(input, duckdb, spark) {differences}"
    words = {"infinity", "-infinity", "epoch", " Epoch "}
    assert all(r["ordered_at"] is None for t, r in zip(TIMESTAMPS, duck, strict=True) if t in words)


def test_customer_ids_agree_with_the_compiled_dbt_macros(spark):
    """Spark's btrim / lower / length / rlike against the dbt macros on hostile ids."""
    expected = [(r["customer_id"], r["customer_id_reject_reason"]) for r in evaluate(HOSTILE_IDS)]
    normalized = staging.normalize_customer_id(F.col("v"))
    actual = _spark_column(
        spark, HOSTILE_IDS, F.struct(normalized, staging.customer_id_reject_reason(normalized))
    )
    differences = [
        (raw, e, tuple(a)) for raw, e, a in zip(HOSTILE_IDS, expected, actual, strict=True)
        if e != tuple(a)
    ]  # fmt: skip
    assert not differences, f"(raw, duckdb, spark) {differences}"
