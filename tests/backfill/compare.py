"""Row-by-row, column-by-column comparison of the dbt marts and the Spark backfill output.

Exact for integers, strings, booleans, dates and timestamps; relative difference <= 1e-9 for
floats; nulls must sit in the same places; the (customer_id, as_of_date) row sets must match.
Returns human-readable differences (empty = parity) so a failure names the column and rows.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

KEY = ["customer_id", "as_of_date"]
REL_TOL = 1e-9

# DuckDB type in the contract → the Arrow type its Parquet column must have (both engines)
DUCKDB_TO_ARROW = {
    "varchar": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
}


def read_dbt(path: Path) -> pa.Table:
    return ds.dataset(path, format="parquet").to_table()


def read_backfill(root: Path) -> pa.Table:
    """The partitioned output, as_of_date rebuilt from the directory names as a DATE."""
    partitioning = ds.partitioning(pa.schema([("as_of_date", pa.date32())]), flavor="hive")
    return ds.dataset(root, format="parquet", partitioning=partitioning).to_table()


def schema_differences(table: pa.Table, columns: list[tuple[str, str]], side: str) -> list[str]:
    """Names and Arrow types of ``table`` against the contract's (name, duckdb type) list."""
    problems = []
    names = set(table.schema.names)
    expected = [name for name, _ in columns]
    if missing := [n for n in expected if n not in names]:
        problems.append(f"{side}: missing columns {missing}")
    if extra := sorted(names - set(expected)):
        problems.append(f"{side}: columns not in the contract {extra}")
    for name, duck_type in columns:
        if name in names:
            actual = table.schema.field(name).type
            if actual != DUCKDB_TO_ARROW[duck_type]:
                problems.append(f"{side}: {name} is {actual}, contract {duck_type}")
    return problems


def value_differences(
    dbt: pd.DataFrame,
    spark: pd.DataFrame,
    columns: list[str],
    float_columns: set[str],
    limit: int = 5,
) -> list[str]:
    problems = []
    dbt_keys = set(map(tuple, dbt[KEY].astype(str).to_numpy()))
    spark_keys = set(map(tuple, spark[KEY].astype(str).to_numpy()))
    if dbt_keys != spark_keys:
        problems.append(
            f"row sets differ: {len(dbt_keys - spark_keys)} only in dbt "
            f"(e.g. {sorted(dbt_keys - spark_keys)[:3]}), "
            f"{len(spark_keys - dbt_keys)} only in Spark "
            f"(e.g. {sorted(spark_keys - dbt_keys)[:3]})"
        )
    for side, frame in (("dbt", dbt), ("spark", spark)):
        if frame.duplicated(KEY).any():
            problems.append(f"{side}: duplicate (customer_id, as_of_date) rows")
    merged = dbt.merge(spark, on=KEY, suffixes=("_dbt", "_spark"), how="inner")
    for column in columns:
        if column in KEY:
            continue
        left, right = merged[f"{column}_dbt"], merged[f"{column}_spark"]
        left_null, right_null = left.isna().to_numpy(), right.isna().to_numpy()
        bad = left_null != right_null
        both = ~left_null & ~right_null
        if column in float_columns:
            a = left.to_numpy(dtype="float64", na_value=math.nan)
            b = right.to_numpy(dtype="float64", na_value=math.nan)
            scale = pd.Series(abs(a)).combine(pd.Series(abs(b)), max).to_numpy()
            bad |= both & ~(abs(a - b) <= REL_TOL * scale)
        else:
            bad |= both & (left.astype(object).to_numpy() != right.astype(object).to_numpy())
        if bad.any():
            sample = merged.loc[bad, [*KEY, f"{column}_dbt", f"{column}_spark"]].head(limit)
            problems.append(
                f"{column}: {int(bad.sum())} rows differ, e.g.\n{sample.to_string(index=False)}"
            )
    return problems


def compare_marts(dbt_file: Path, backfill_root: Path, columns: list[tuple[str, str]]) -> list[str]:
    """Every difference between a dbt mart file and the backfill's partitioned table."""
    dbt_table, spark_table = read_dbt(dbt_file), read_backfill(backfill_root)
    problems = schema_differences(dbt_table, columns, "dbt")
    problems += schema_differences(spark_table, columns, "spark")
    names = [name for name, _ in columns]
    floats = {name for name, duck_type in columns if duck_type == "double"}
    return problems + value_differences(
        dbt_table.select(names).to_pandas(), spark_table.select(names).to_pandas(), names, floats
    )
