"""The latest as-of features into Feast's Redis online store, from Spark, partition by partition.

`python -m feature_repo.materialize` reads the newest as-of rows with DuckDB on one machine and
writes them with `feature_repo.fast_write.write_rows`. Here the same rows (every customer at
the newest event_timestamp of the features) are selected on Spark and each partition is
written by its executor with that same `write_rows`, in Arrow batches (`mapInArrow`): the
same hashes, fields, values, timestamps and key TTL (Feast's layout as
`feature_repo.online_layout` defines it, checked against Feast's own encoder on every write),
so the API's `feature_repo.online_reader` reads them as if the local command had written them.
No row passes through the driver.

What an executor needs is shipped with the task: the store's settings as plain data (a
RepoConfig holds protobuf descriptors, which do not pickle) and the feature views as their
registry protos (the form Feast itself stores them in). The registry file is never read
there, so executors need no access to it. Unlike the local
command there is no incremental state: every customer of the newest date is written.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial

import pyarrow as pa
from feast import FeatureStore, FeatureView
from feast.protos.feast.core.FeatureView_pb2 import FeatureView as FeatureViewProto
from feast.repo_config import RepoConfig
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from feature_repo.fast_write import CHUNK_CUSTOMERS, write_rows
from feature_repo.online_layout import ensure_online_tables, layout_kind
from feature_repo.store import feature_service

_STORES: dict[str, FeatureStore] = {}  # per executor Python worker: one per Redis and project


def latest_rows(features: DataFrame) -> DataFrame:
    """The rows of the newest event_timestamp: what the local materialize writes. (Joined on
    Spark rather than compared with a Python literal: a naive datetime literal would be read
    in the driver's local time zone.)"""
    newest = features.agg(F.max("event_timestamp").alias("event_timestamp"))
    return features.join(F.broadcast(newest), "event_timestamp")


def config_fields(config: RepoConfig) -> dict:
    """The RepoConfig as plain, picklable data that rebuilds it: RepoConfig(**fields)."""
    return {
        "project": config.project,
        "provider": config.provider,
        "repo_path": str(config.repo_path),
        "registry": config.registry.model_dump(mode="json"),
        "offline_store": config.offline_store.model_dump(mode="json"),
        "online_store": config.online_store.model_dump(mode="json"),
        "entity_key_serialization_version": config.entity_key_serialization_version,
    }


def _store(fields: dict) -> FeatureStore:
    """The store (and its Redis connection pool) of these settings, built once per worker."""
    key = repr(sorted(fields.items()))
    if key not in _STORES:
        _STORES[key] = FeatureStore(config=RepoConfig(**fields))
    return _STORES[key]


def write_partitions(config: dict, views: Sequence[bytes], chunk: int = CHUNK_CUSTOMERS):
    """The function mapInArrow runs on each partition: Arrow batches in, one row count out.
    config: `config_fields` of the store; views: the feature views' serialized protos.

    A partial of a module-level function, so that Spark pickles it by name: a closure would
    be pickled by value with the protobuf classes it uses, which do not pickle."""
    return partial(_write_batches, config, tuple(views), chunk)


def _write_batches(
    config: dict, views: tuple[bytes, ...], chunk: int, batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    store = _store(config)
    feature_views = [FeatureView.from_proto(FeatureViewProto.FromString(v)) for v in views]
    written = 0
    for batch in batches:
        if batch.num_rows:
            table = pa.Table.from_batches([batch])
            written += write_rows(store, feature_views, table, chunk=chunk)
    yield pa.RecordBatch.from_pydict({"written": [written]})


def materialize(store: FeatureStore, features: DataFrame, partitions: int | None = None) -> int:
    """Write the newest as-of row of every customer in ``features`` into ``store``'s Redis;
    returns the customers written. partitions: how many executor tasks write (default: the
    input's partitioning)."""
    if layout_kind(store) != "redis":
        raise SystemExit(
            "the Spark path materializes into Redis in Feast's layout; this store is "
            f"{store.config.online_store.type!r} (or a Feast version the layout was not "
            "verified on): give --redis HOST:PORT"
        )
    views = [
        store.get_feature_view(p.name, allow_registry_cache=True)
        for p in feature_service(store).feature_view_projections
    ]
    ensure_online_tables(store, views)
    columns = ["customer_id", "event_timestamp"]
    columns += list(dict.fromkeys(f.name for v in views for f in v.features))
    rows = latest_rows(features).select(*columns)
    if partitions:
        rows = rows.repartition(partitions)
    protos = [view.to_proto().SerializeToString() for view in views]
    write = write_partitions(config_fields(store.config), protos)
    counts = rows.mapInArrow(write, "written bigint")
    return int(counts.agg(F.sum("written")).first()[0] or 0)
