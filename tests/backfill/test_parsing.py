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
    "timestamp": (
        TIMESTAMPS,
        staging.parse_order_timestamp,
        "coalesce(try_strptime(trim(v), '%Y-%m-%d %H:%M:%S'), try_strptime(trim(v), '%Y-%m-%d'))",
    ),
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


def test_text_is_trimmed_of_spaces_only_like_duckdb(spark):
    corpus = ["  c0001 ", "\tC0001", "", "   ", None, "Mixed Case"]
    with duckdb.connect() as con:
        expected = [
            con.execute("select upper(nullif(trim(?), ''))", [t]).fetchone()[0] for t in corpus
        ]
    frame = spark.createDataFrame([(i, t) for i, t in enumerate(corpus)], "i int, v string")
    actual = [
        r[0] for r in frame.orderBy("i").select(F.upper(staging.nullif_blank(F.col("v")))).collect()
    ]
    assert actual == expected
