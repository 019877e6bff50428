"""The feature spec: dbt's mart contracts, read at run time.

`dbt_project/models/marts/customer_features.yml` and `customer_labels.yml` are the one place a
column's name, position and type are declared (dbt enforces them on the DuckDB side with
`contract: {enforced: true}`). The backfill never declares a schema of its own: it derives the
Spark schema from those files, in their column order, and :func:`enforce` refuses to write a
DataFrame that differs. Adding, renaming or retyping a feature in the yml therefore breaks the
Spark job loudly until it computes that feature too, and the parity test proves the values.

The yml is parsed by :mod:`ingest.mart_contract`, the same reader Feast's definitions use; the
dbt vars (:mod:`ingest.dbt_vars`) and the seeds (:mod:`ingest.holidays`, :mod:`ingest.seeds`)
are read through ``ingest`` as well, so the two engines share one set of knobs and one calendar.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import types as T

from ingest.mart_contract import MARTS_DIR, Column, mart_columns

FEATURES_MODEL = "customer_features"
LABELS_MODEL = "customer_labels"

# DuckDB type names as written in the contracts ↔ the Spark type each one lands as.
# DuckDB's TIMESTAMP has no time zone, so it is Spark's TIMESTAMP_NTZ (not TIMESTAMP, which is
# an instant in the session time zone).
DUCKDB_TO_SPARK: dict[str, T.DataType] = {
    "varchar": T.StringType(),
    "text": T.StringType(),
    "date": T.DateType(),
    "timestamp": T.TimestampNTZType(),
    "bigint": T.LongType(),
    "integer": T.IntegerType(),
    "double": T.DoubleType(),
    "boolean": T.BooleanType(),
}


class SchemaMismatch(RuntimeError):
    """The Spark output differs from the dbt contract: never written, always raised."""


def spark_type(column: Column) -> T.DataType:
    """The Spark type a contract column lands as."""
    try:
        return DUCKDB_TO_SPARK[column.data_type]
    except KeyError:
        raise SchemaMismatch(
            f"column {column.name}: data_type {column.data_type!r} has no Spark mapping in "
            "backfill/spec.py DUCKDB_TO_SPARK; add one"
        ) from None


def contract(model: str) -> tuple[Column, ...]:
    """The columns of a mart, in contract order, from its yml."""
    return mart_columns(model)


def spark_schema(model: str) -> T.StructType:
    """The Spark schema the backfill writes for ``model`` (nullability is not part of it)."""
    return T.StructType([T.StructField(c.name, spark_type(c), True) for c in contract(model)])


def enforce(df: DataFrame, model: str) -> DataFrame:
    """Select the contract's columns in contract order; raise if any is missing, extra or
    of another type. Called on every DataFrame before it is written."""
    expected = [(c.name, spark_type(c)) for c in contract(model)]
    actual = [(f.name, f.dataType) for f in df.schema.fields]
    expected_names = [n for n, _ in expected]
    actual_names = {n for n, _ in actual}
    problems = []
    if missing := [n for n in expected_names if n not in actual_names]:
        problems.append(f"missing columns {missing}")
    if extra := sorted(actual_names - set(expected_names)):
        problems.append(f"columns not in the contract {extra}")
    types = dict(actual)
    problems += [
        f"{n}: Spark {types[n].simpleString()} but contract {t.simpleString()}"
        for n, t in expected
        if n in types and types[n] != t
    ]
    if problems:
        raise SchemaMismatch(
            f"{model} does not match {MARTS_DIR / model}.yml: " + "; ".join(problems)
        )
    return df.select(*expected_names)
