"""Feast definitions, read top to bottom: entity, data source, feature views, feature service.

Field names and types come from the dbt mart contract (contract.py), so they always match the
Parquet files dbt writes. This file only decides which view each feature belongs to; a test
fails when a contract column is in no view or in two.

`build(features_dir)` makes a fresh set of objects over the marts in any folder
(store.apply_definitions uses it, so tests and the bench can point Feast at their own data
without touching shared objects). `feast apply` reads module-level objects instead: they are
`build()` over the configured FEATURES_DIR (ingest.paths.pipeline_paths), at the bottom.
"""

import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
from feast.types import Bool, Float64, Int64, String

try:  # imported as part of the package (tests, api) or as a file by `feast apply`
    from feature_repo.contract import FEATURE_SERVICE as SERVICE_NAME
    from feature_repo.contract import feature_columns
    from ingest.paths import pipeline_paths
except ModuleNotFoundError:  # pragma: no cover - `feast apply` runs from this folder
    # and puts only this folder on sys.path: add the checkout so the package (and the one
    # REPO_ROOT in ingest.paths, which contract imports) resolves as it does everywhere else
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from feature_repo.contract import FEATURE_SERVICE as SERVICE_NAME
    from feature_repo.contract import feature_columns
    from ingest.paths import pipeline_paths

OWNER = "data-platform@retailer.example"


def features_path(features_dir: Path) -> str:
    """Where the customer_features rows are under ``features_dir``: dbt's single Parquet file,
    or, when only that is absent and a `python -m backfill` output is there, every partition
    of its ``customer_features/as_of_date=YYYY-MM-DD/`` folders. Same columns either way:
    DuckDB reads the hive folder name back as the as_of_date DATE column. The backfill renames
    a partition into place only once it is complete, so the glob never sees half of one."""
    features_dir = Path(features_dir).resolve()
    single = features_dir / "customer_features.parquet"
    partitioned = features_dir / "customer_features"
    if not single.exists() and partitioned.is_dir():
        return str(partitioned / "as_of_date=*" / "*.parquet")
    return str(single)


# dbt data_type → Feast type
FEAST_TYPES = {"bigint": Int64, "double": Float64, "varchar": String, "boolean": Bool}


# Which view each contract column belongs to, grouped by meaning: behaviour is everything else.
CALENDAR = ("as_of_month", "as_of_day_of_week", "days_to_next_holiday", "is_festival_season")
PROFILE = ("age", "gender", "location", "days_since_signup")

# Features are stamped at the end of each as-of day and every customer gets a row at every
# as-of date after their first purchase, so a training row always finds its own as-of row;
# the TTL only has to stop a join from reaching back across a missing snapshot.
TTL = timedelta(days=400)


def _fields(names: set[str]) -> list[Field]:
    return [
        Field(name=c.name, dtype=FEAST_TYPES[c.data_type], description=c.description)
        for c in feature_columns()
        if c.name in names
    ]


@dataclass(frozen=True)
class Definitions:
    """One set of the repository's Feast objects, over the marts of one folder."""

    customer: Entity
    source: FileSource
    views: tuple[FeatureView, ...]
    service: FeatureService

    @property
    def objects(self) -> list:
        """Everything `store.apply` registers, in dependency order."""
        return [self.customer, self.source, *self.views, self.service]


def build(features_dir: Path | None = None) -> Definitions:
    """The entity, source, views and service over the marts in ``features_dir`` (default: the
    configured FEATURES_DIR; dbt's file or a backfill's partitions, see features_path)."""
    if features_dir is None:
        features_dir = pipeline_paths().features_dir

    # -----------------------------------------------------------------------------------------
    # Entity
    # -----------------------------------------------------------------------------------------
    customer = Entity(
        name="customer",
        join_keys=["customer_id"],
        value_type=ValueType.STRING,
        description="A retail customer, by the id in the transaction log (trimmed, upper-case).",
        tags={"domain": "customer"},
        owner=OWNER,
    )

    # -----------------------------------------------------------------------------------------
    # Data source: the dbt mart (or the backfill's output), one row per customer per as-of date
    # -----------------------------------------------------------------------------------------
    source = FileSource(
        name="customer_features_source",
        path=features_path(features_dir),
        timestamp_field="event_timestamp",
        description="dbt mart customer_features (Parquet; or a backfill's as-of partitions), "
        "stamped at the end of each as-of day.",
        tags={"dbt_model": "customer_features"},
        owner=OWNER,
    )

    # -----------------------------------------------------------------------------------------
    # Feature views, grouped by meaning
    # -----------------------------------------------------------------------------------------
    def view(name: str, names: set[str], description: str) -> FeatureView:
        return FeatureView(
            name=f"customer_{name}",
            entities=[customer],
            ttl=TTL,
            schema=_fields(names),
            source=source,
            online=True,
            description=description,
            tags={"group": name},
            owner=OWNER,
        )

    behaviour = {c.name for c in feature_columns()} - set(CALENDAR) - set(PROFILE)
    views = (
        view(
            "behaviour",
            behaviour,
            "Recency, frequency, monetary value, windows, rhythm, returns and preferences.",
        ),
        view(
            "calendar",
            set(CALENDAR),
            "Where the as-of date falls: month, weekday, holidays, festival season.",
        ),
        view(
            "profile",
            set(PROFILE),
            "Demographics and location from the customer file and first purchase.",
        ),
    )

    # -----------------------------------------------------------------------------------------
    # Feature service: THE list of model features, read by training and serving alike
    # -----------------------------------------------------------------------------------------
    service = FeatureService(
        name=SERVICE_NAME,
        features=list(views),
        description="Every feature of the repeat-purchase model, version 1.",
        tags={"model": "repeat_purchase", "version": "1"},
        owner=OWNER,
    )
    return Definitions(customer, source, views, service)


# ---------------------------------------------------------------------------------------------
# What `feast -c feature_repo apply` registers: module-level objects over FEATURES_DIR
# ---------------------------------------------------------------------------------------------
_configured = build()
customer = _configured.customer
customer_features_source = _configured.source
customer_behaviour, customer_calendar, customer_profile = _configured.views
FEATURE_VIEWS = _configured.views
FEATURE_SERVICE = _configured.service
