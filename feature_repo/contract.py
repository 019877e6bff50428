"""The dbt mart contracts, read as data.

The marts' `.yml` files (columns with `data_type`) are the one schema of the features. Feast's
field types are derived from them here, so Feast cannot drift from dbt: a renamed or retyped
column in dbt changes the Feast schema on the next `feast apply`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml

from ingest.paths import REPO_ROOT

MARTS_DIR = REPO_ROOT / "dbt_project" / "models" / "marts"

# The FeatureService's name: training records it with the model and serving asks Feast for it,
# so it is defined here, in the one module definitions.py, lookup.py and materialize.py all
# import (definitions.py imports nothing else from this package: `feast apply` loads it alone).
FEATURE_SERVICE = "repeat_purchase_v1"

# Columns that identify a row rather than describe the customer.
KEY_COLUMNS = ("customer_id", "as_of_date", "event_timestamp")


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    description: str
    # the column's dbt data tests as written in the yml (e.g. "non_negative", accepted_values)
    tests: tuple[Any, ...] = field(default=(), compare=False)


@cache
def mart_columns(model: str) -> tuple[Column, ...]:
    """Columns of a dbt mart, in contract order, from `dbt_project/models/marts/<model>.yml`."""
    spec = yaml.safe_load((MARTS_DIR / f"{model}.yml").read_text())
    (node,) = [m for m in spec["models"] if m["name"] == model]
    return tuple(
        Column(
            c["name"],
            c["data_type"].lower(),
            c.get("description", "").strip(),
            tuple(c.get("data_tests", [])),
        )
        for c in node["columns"]
    )


def feature_columns() -> tuple[Column, ...]:
    """The customer_features columns that are features (everything but the row keys)."""
    return tuple(c for c in mart_columns("customer_features") if c.name not in KEY_COLUMNS)
