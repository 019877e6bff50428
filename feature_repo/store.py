"""Open the Feast store from Python, the way the `feast` CLI would.

The CLI reads `feature_repo/feature_store.yaml`, or the file named by FEAST_FS_YAML_FILE_PATH
(`feature_store.redis.yaml` for Redis). `open_store` honours the same variable, and lets tests
move the registry and the SQLite file into a temporary folder or point Redis elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from feast import FeatureService, FeatureStore
from feast.repo_config import RepoConfig

from feature_repo.contract import FEATURE_SERVICE

REPO_DIR = Path(__file__).resolve().parent


def config_path() -> Path:
    """The feature_store yaml in force: FEAST_FS_YAML_FILE_PATH, else the SQLite default."""
    chosen = os.environ.get("FEAST_FS_YAML_FILE_PATH")
    return Path(chosen).resolve() if chosen else REPO_DIR / "feature_store.yaml"


def open_store(
    *, data_dir: Path | None = None, redis_url: str | None = None, yaml_path: Path | None = None
) -> FeatureStore:
    """A FeatureStore for the configured yaml.

    data_dir: put the registry (and the SQLite online store) there instead of ../data.
    redis_url: use a Redis online store at host:port instead of what the yaml says.
    """
    path = yaml_path or config_path()
    raw = yaml.safe_load(os.path.expandvars(path.read_text()))
    if data_dir is not None:
        raw["registry"] = str(Path(data_dir) / "registry.db")
        if raw["online_store"]["type"] == "sqlite":
            raw["online_store"]["path"] = str(Path(data_dir) / "online_store.db")
    # paths in the yaml are relative to this folder, as for the CLI, whatever the cwd
    raw["registry"] = str(REPO_DIR / raw["registry"])
    if raw["online_store"]["type"] == "sqlite":
        raw["online_store"]["path"] = str(REPO_DIR / raw["online_store"]["path"])
    if redis_url is not None:
        raw["online_store"] = {"type": "redis", "connection_string": redis_url}
    return FeatureStore(config=RepoConfig(repo_path=REPO_DIR, **raw))


def feature_service(store: FeatureStore) -> FeatureService:
    """The model's FeatureService, from the registry cache.

    Still fresh: with a file registry in Feast's default `cache_mode: sync`, a cached read
    re-reads the file whenever its modification time changed, so a `feast apply` is seen.
    Feast's default (allow_cache=False) re-reads the file on every call instead, and logs
    "Registry cache expired, so refreshing" each time.
    """
    return store.get_feature_service(FEATURE_SERVICE, allow_cache=True)


def apply_definitions(store: FeatureStore, features_dir: Path | None = None) -> None:
    """`feast apply` from Python: register the entity, source, views and service of
    definitions.py, built over the marts in ``features_dir`` (default: FEATURES_DIR; dbt's
    customer_features.parquet, or a backfill output folder: see definitions.features_path).
    Readers built before this see the registry as it was: build them after."""
    # imported here: its module-level objects (for `feast apply`) are built over FEATURES_DIR
    from feature_repo.definitions import build

    store.apply(build(features_dir).objects)
