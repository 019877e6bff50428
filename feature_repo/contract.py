"""The dbt mart contracts, read as data.

The marts' `.yml` files (columns with `data_type`) are the one schema of the features. Feast's
field types are derived from them here, so Feast cannot drift from dbt: a renamed or retyped
column in dbt changes the Feast schema on the next `feast apply`. The yml is parsed by
:mod:`ingest.mart_contract` (the Spark backfill reads it there too); this module adds what is
Feast's: the FeatureService name and which columns are features.
"""

from __future__ import annotations

from ingest.mart_contract import MARTS_DIR, Column, mart_columns
from ingest.paths import REPO_ROOT

__all__ = [
    "FEATURE_SERVICE",
    "KEY_COLUMNS",
    "MARTS_DIR",
    "REPO_ROOT",
    "Column",
    "feature_columns",
    "mart_columns",
]

# The FeatureService's name: training records it with the model and serving asks Feast for it,
# so it is defined here, in the one module definitions.py, lookup.py and materialize.py all
# import (definitions.py imports nothing else from this package: `feast apply` loads it alone).
FEATURE_SERVICE = "repeat_purchase_v1"

# Columns that identify a row rather than describe the customer.
KEY_COLUMNS = ("customer_id", "as_of_date", "event_timestamp")


def feature_columns() -> tuple[Column, ...]:
    """The customer_features columns that are features (everything but the row keys)."""
    return tuple(c for c in mart_columns("customer_features") if c.name not in KEY_COLUMNS)
