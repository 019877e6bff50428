"""The fast materialization writes exactly what stock Feast writes, and only what changed.

Stock = `store.materialize(start, end)` over the latest as-of window (Feast's own offline read
and `online_write_batch`). Compared on the raw online storage (every SQLite row, every Redis
hash field), which is stricter than comparing reads, and then through Feast's reader.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import redis

from feature_repo import definitions
from feature_repo.lookup import get_online_features, get_online_features_via_feast
from feature_repo.materialize import materialize_latest
from feature_repo.store import apply_definitions, open_store
from tests.feature_store.test_feature_store import _assert_online_equals_latest_offline
from tests.feature_store.test_redis import redis_url  # noqa: F401  (module fixture)


def _latest(features_dir: Path) -> pd.Timestamp:
    frame = pd.read_parquet(features_dir / "customer_features.parquet", columns=["event_timestamp"])
    return frame["event_timestamp"].max()


def _stock_materialize(store, features_dir: Path) -> None:
    latest = _latest(features_dir).to_pydatetime()
    store.materialize(
        start_date=latest - timedelta(hours=1), end_date=latest + timedelta(seconds=1)
    )


def _sqlite_rows(data_dir: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(data_dir / "online_store.db") as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
        return {
            t: conn.execute(
                f"select entity_key, feature_name, value, value_text, event_ts, created_ts "
                f'from "{t}" order by entity_key, feature_name'
            ).fetchall()
            for t in sorted(tables)
        }


def _redis_hashes(client: redis.Redis) -> dict[bytes, dict[bytes, bytes]]:
    return {key: client.hgetall(key) for key in client.scan_iter(count=1000)}


def _sample_ids(features_dir: Path, n: int = 40) -> list[str]:
    ids = pd.read_parquet(features_dir / "customer_features.parquet", columns=["customer_id"])
    return sorted(ids["customer_id"].unique())[:n]


def _copy_features(warehouse, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(warehouse.features_dir / "customer_features.parquet", target)
    return target


def test_sqlite_fast_path_writes_what_stock_feast_writes(warehouse, tmp_path):
    stock_dir, fast_dir = tmp_path / "stock", tmp_path / "fast"
    stock = open_store(data_dir=stock_dir)
    apply_definitions(stock, features_dir=warehouse.features_dir)
    _stock_materialize(stock, warehouse.features_dir)
    fast = open_store(data_dir=fast_dir)
    apply_definitions(fast, features_dir=warehouse.features_dir)
    report = materialize_latest(fast)

    stock_rows, fast_rows = _sqlite_rows(stock_dir), _sqlite_rows(fast_dir)
    assert report.customers == len({r[0] for r in next(iter(stock_rows.values()))}) > 0
    assert stock_rows.keys() == fast_rows.keys() and len(stock_rows) == 3
    for table in stock_rows:
        assert len(fast_rows[table]) == len(stock_rows[table]) > 0, table
        assert fast_rows[table] == stock_rows[table], table  # byte for byte

    ids = [*_sample_ids(warehouse.features_dir), "NO-SUCH-CUSTOMER"]
    assert get_online_features(fast, ids) == get_online_features_via_feast(stock, ids)
    _assert_online_equals_latest_offline(fast, warehouse, ids[:-1])


def test_applying_over_a_folder_leaves_the_feast_apply_objects_alone(warehouse, tmp_path):
    """apply_definitions builds its own objects over the folder: the module-level ones that
    `feast apply` registers keep pointing at FEATURES_DIR (no test has to put them back)."""
    configured = definitions.customer_features_source.path
    store = open_store(data_dir=tmp_path / "feast")
    apply_definitions(store, features_dir=warehouse.features_dir)
    assert definitions.customer_features_source.path == configured
    registered = store.get_data_source("customer_features_source").path
    assert registered == str(warehouse.features_dir.resolve() / "customer_features.parquet")
    assert definitions.build(tmp_path).source.path == str(tmp_path / "customer_features.parquet")


def test_incremental_run_writes_only_the_changed_customer(warehouse, tmp_path):
    features_dir = _copy_features(warehouse, tmp_path / "features")
    store = open_store(data_dir=tmp_path / "feast")
    apply_definitions(store, features_dir=features_dir)
    first = materialize_latest(store)
    assert first.customers > 0 and first.unchanged == 0
    again = materialize_latest(store)
    assert again.customers == 0 and again.unchanged == first.customers

    path = features_dir / "customer_features.parquet"
    frame = pd.read_parquet(path)
    latest = frame["event_timestamp"] == frame["event_timestamp"].max()
    customer = frame.loc[latest, "customer_id"].sort_values().iloc[0]
    row = latest & (frame["customer_id"] == customer)
    frame.loc[row, "total_spend"] += 1.25
    frame.to_parquet(path, index=False)

    changed = materialize_latest(store)
    assert (changed.customers, changed.unchanged) == (1, first.customers - 1)
    (online,) = get_online_features(store, [customer])
    assert online.features["total_spend"] == pytest.approx(frame.loc[row, "total_spend"].item())
    assert materialize_latest(store).customers == 0


def test_redis_fast_path_writes_what_stock_feast_writes(redis_url, warehouse, tmp_path):  # noqa: F811
    client = redis.Redis.from_url(f"redis://{redis_url}")
    client.flushall()
    stock = open_store(data_dir=tmp_path / "stock", redis_url=redis_url)
    apply_definitions(stock, features_dir=warehouse.features_dir)
    _stock_materialize(stock, warehouse.features_dir)
    stock_hashes = _redis_hashes(client)
    ids = [*_sample_ids(warehouse.features_dir), "NO-SUCH-CUSTOMER"]
    stock_reads = get_online_features_via_feast(stock, ids)

    client.flushall()
    features_dir = _copy_features(warehouse, tmp_path / "features")
    fast = open_store(data_dir=tmp_path / "fast", redis_url=redis_url)
    apply_definitions(fast, features_dir=features_dir)
    report = materialize_latest(fast)
    fast_hashes = _redis_hashes(client)

    assert report.customers == len(stock_hashes) > 0
    assert fast_hashes == stock_hashes  # same keys, fields and bytes
    assert get_online_features(fast, ids) == stock_reads
    _assert_online_equals_latest_offline(fast, warehouse, ids[:-1])

    # a corrected row with the SAME as-of date is written (stock Redis would skip it)
    path = features_dir / "customer_features.parquet"
    frame = pd.read_parquet(path)
    row = (frame["event_timestamp"] == frame["event_timestamp"].max()) & (
        frame["customer_id"] == ids[0]
    )
    frame.loc[row, "orders_count"] += 1
    frame.to_parquet(path, index=False)
    changed = materialize_latest(fast)
    assert changed.customers == 1
    (online,) = get_online_features(fast, [ids[0]])
    assert online.features["orders_count"] == frame.loc[row, "orders_count"].item()
    client.flushall()
