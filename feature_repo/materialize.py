"""Load the latest as-of features into the online store: `python -m feature_repo.materialize`.

Stock `feast materialize` writes row by row through the offline store. Here DuckDB reads the
newest as-of date straight from the Parquet mart and each feature view is written in one
batch through Feast's own `write_to_online_store`, so the online rows are exactly the rows of
the offline mart at its latest as-of date (the skew test holds us to that). A run whose
latest as-of date is already online writes nothing unless --full is given.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pandas as pd
from feast import FeatureStore

from feature_repo.store import open_store

log = logging.getLogger("feature_repo.materialize")

STATE_FILE = "materialized.json"


@dataclass
class MaterializeReport:
    customers: int
    as_of: str | None
    seconds: float
    skipped: bool


def latest_features(features_path: Path) -> pd.DataFrame:
    """The customer_features rows of the newest as-of date (one per customer)."""
    return duckdb.sql(
        f"""
        select * from read_parquet('{features_path}')
        where event_timestamp = (select max(event_timestamp) from read_parquet('{features_path}'))
        """
    ).df()


def _state_path(store: FeatureStore) -> Path:
    registry = Path(store.config.registry.path)
    if not registry.is_absolute():
        registry = Path(store.repo_path) / registry
    return registry.parent / STATE_FILE


def materialize_latest(store: FeatureStore, *, full: bool = False) -> MaterializeReport:
    """Write the newest as-of features of every customer into the online store."""
    started = time.perf_counter()
    views = store.get_feature_service("repeat_purchase_v1").feature_view_projections
    source_path = store.get_feature_view(views[0].name).batch_source.path
    frame = latest_features(Path(source_path))
    as_of = str(frame["event_timestamp"].max()) if len(frame) else None

    state_path = _state_path(store)
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    online_key = f"{store.config.online_store.type}:{source_path}"
    if not full and as_of is not None and state.get(online_key) == as_of:
        log.info("online store already holds as-of %s; nothing to write", as_of)
        return MaterializeReport(0, as_of, time.perf_counter() - started, skipped=True)

    for projection in views:
        columns = ["customer_id", "event_timestamp", *(f.name for f in projection.features)]
        store.write_to_online_store(projection.name, frame[columns])
    state[online_key] = as_of
    state_path.write_text(json.dumps(state, indent=2))
    return MaterializeReport(len(frame), as_of, time.perf_counter() - started, skipped=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m feature_repo.materialize",
        description="Load the latest as-of features from the dbt mart into Feast's online store "
        "(SQLite by default; Redis with FEAST_FS_YAML_FILE_PATH=feature_repo/"
        "feature_store.redis.yaml). Run `feast -c feature_repo apply` first.",
    )
    parser.add_argument("--full", action="store_true", help="write even if already up to date")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    report = materialize_latest(open_store(), full=args.full)
    if report.skipped:
        print(f"online store already up to date (features as of {report.as_of})")
    else:
        print(
            f"materialized {report.customers:,} customers (features as of {report.as_of}) "
            f"in {report.seconds:.1f} s"
        )
    log.debug("report: %s", asdict(report))


if __name__ == "__main__":
    main()
