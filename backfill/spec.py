"""The feature spec: dbt's mart contracts, read at run time.

`dbt_project/models/marts/customer_features.yml` and `customer_labels.yml` are the one place a
column's name, position and type are declared (dbt enforces them on the DuckDB side with
`contract: {enforced: true}`). The backfill never declares a schema of its own: it derives the
Spark schema from those files, in their column order, and :func:`enforce` refuses to write a
DataFrame that differs. Adding, renaming or retyping a feature in the yml therefore breaks the
Spark job loudly until it computes that feature too, and the parity test proves the values.

The dbt vars (label window, as-of cadence) and the seeds are read from the dbt project as well,
so the two engines share one set of knobs and one calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import yaml
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from ingest.paths import REPO_ROOT

MARTS_DIR = REPO_ROOT / "dbt_project" / "models" / "marts"
SEEDS_DIR = REPO_ROOT / "dbt_project" / "seeds"

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


@dataclass(frozen=True)
class Column:
    name: str
    duckdb_type: str
    description: str

    @property
    def spark_type(self) -> T.DataType:
        try:
            return DUCKDB_TO_SPARK[self.duckdb_type.lower()]
        except KeyError:
            raise SchemaMismatch(
                f"column {self.name}: data_type {self.duckdb_type!r} has no Spark mapping in "
                "backfill/spec.py DUCKDB_TO_SPARK; add one"
            ) from None


@cache
def contract(model: str) -> tuple[Column, ...]:
    """The columns of a mart, in contract order, from its yml."""
    doc = yaml.safe_load((MARTS_DIR / f"{model}.yml").read_text(encoding="utf-8"))
    (entry,) = [m for m in doc["models"] if m["name"] == model]
    columns = tuple(
        Column(c["name"], c["data_type"], c.get("description", "")) for c in entry["columns"]
    )
    missing = [c.name for c in columns if not c.duckdb_type]
    if missing:
        raise SchemaMismatch(f"{model}.yml columns without data_type: {missing}")
    return columns


def spark_schema(model: str) -> T.StructType:
    """The Spark schema the backfill writes for ``model`` (nullability is not part of it)."""
    return T.StructType([T.StructField(c.name, c.spark_type, True) for c in contract(model)])


def enforce(df: DataFrame, model: str) -> DataFrame:
    """Select the contract's columns in contract order; raise if any is missing, extra or
    of another type. Called on every DataFrame before it is written."""
    expected = [(c.name, c.spark_type) for c in contract(model)]
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
