"""The same online guarantees against a real redis-server on a free loopback port."""

from __future__ import annotations

import pandas as pd
import pytest
import redis
from feast.protos.feast.types.Value_pb2 import Value

from feature_repo import online_layout as layout
from feature_repo.lookup import get_online_features
from feature_repo.materialize import materialize_latest
from feature_repo.online_reader import OnlineReader
from feature_repo.store import apply_definitions, open_store
from tests.conftest import redis_server
from tests.feature_store.test_feature_store import _assert_online_equals_latest_offline
from tests.feature_store.test_online_reader import _latest_ids, assert_same_reads


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="module")
def redis_store(redis_url, warehouse, tmp_path_factory):
    store = open_store(data_dir=tmp_path_factory.mktemp("feast_redis"), redis_url=redis_url)
    apply_definitions(store, features_dir=warehouse.features_dir)
    report = materialize_latest(store)
    assert report.customers > 0
    return store


def test_redis_online_features_equal_offline(redis_store, warehouse):
    customers = sorted(pd.read_parquet(warehouse.features_dir / "customer_features.parquet")
                       ["customer_id"].unique())[:40]  # fmt: skip
    _assert_online_equals_latest_offline(redis_store, warehouse, customers)


def test_redis_and_sqlite_answer_the_same(redis_store, feature_store, warehouse):
    """The same mart materialized into both stores reads back identically through the reader
    the API uses (the SQLite side is itself held to Feast's reader in test_online_reader)."""
    customers = sorted(pd.read_parquet(warehouse.features_dir / "customer_features.parquet")
                       ["customer_id"].unique())[:60]  # fmt: skip
    ids = [*customers, "NOBODY123", customers[0].lower()]
    assert OnlineReader(redis_store).read(ids) == OnlineReader(feature_store).read(ids)


def _client(redis_url: str) -> redis.Redis:
    host, port = redis_url.split(":")
    return redis.Redis(host=host, port=int(port))


def _hash_key(store, customer_id: str) -> bytes:
    """The Redis hash of a customer, in Feast's layout."""
    key = layout.entity_keys(store, "customer_id")(customer_id)
    return layout.redis_key(key, store.config.project)


def test_redis_reader_equals_feast_with_one_hmget_per_customer(redis_store, redis_url, warehouse):
    """The reader packs every view of a customer into one HMGET (Feast sends one per view) and
    still answers what Feast's get_online_features answers, value for value."""
    known = _latest_ids(warehouse, 120)
    ids = [*known, "NOBODY123", known[0].lower(), known[3]]
    assert_same_reads(redis_store, ids)

    client = _client(redis_url)
    client.config_resetstat()
    rows = OnlineReader(redis_store).read(ids)
    hmget = client.info("commandstats").get("cmdstat_hmget", {}).get("calls", 0)
    assert hmget == len(known) + 2  # unique ids (case kept): the repeats are read once
    assert sum(r.found for r in rows) == len(ids) - 2  # NOBODY123 and the lower-cased id


def test_redis_customer_in_only_some_views_reads_like_feast(redis_store, redis_url, warehouse):
    """A hash holding one view's fields and stamp but not the others' (a view materialized
    later, or expired): found, the absent views' features null, as-of from the present view."""
    client = _client(redis_url)
    reader = OnlineReader(redis_store)
    (customer,) = _latest_ids(warehouse, 1)
    source, partial = _hash_key(redis_store, customer), _hash_key(redis_store, "PARTIAL1")
    stored = client.hgetall(source)
    first_view, names, _ = reader.views[0]
    own = {layout.redis_stamp_field(redis_store, first_view)}
    own |= set(layout.redis_fields(redis_store, first_view, names))
    client.hset(partial, mapping={k: v for k, v in stored.items() if k in own})
    try:
        assert_same_reads(redis_store, ["PARTIAL1", customer])
        (row,) = reader.read(["PARTIAL1"])
        assert row.found
        assert all(row.features[n] is None for _, names, _ in reader.views[1:] for n in names)
        assert any(row.features[n] is not None for n in reader.views[0][1])
    finally:
        client.delete(partial)


def test_redis_reader_never_answers_from_a_stale_cache(redis_store, redis_url, warehouse):
    """Redis has no commit counter like SQLite's data_version, so the reader keeps no cache
    there even when asked: a value rewritten in the store is what the next read returns."""
    client = _client(redis_url)
    reader = OnlineReader(redis_store, cache_size=1_000)
    (customer,) = _latest_ids(warehouse, 1)
    copy = _hash_key(redis_store, "CACHED1")
    client.hset(copy, mapping=client.hgetall(_hash_key(redis_store, customer)))
    try:
        view, names, _ = reader.views[0]
        before = reader.read(["CACHED1"])[0].features
        number = next(n for n in names if isinstance(before[n], float))
        (field,) = layout.redis_fields(redis_store, view, [number])
        client.hset(copy, field, Value(double_val=-1.5).SerializeToString())
        assert reader.read(["CACHED1"])[0].features[number] == -1.5
    finally:
        client.delete(copy)


def test_redis_unknown_customer_is_not_found(redis_store):
    (row,) = get_online_features(redis_store, ["NOBODY"])
    assert not row.found


def test_second_materialization_writes_only_changes(redis_store):
    report = materialize_latest(redis_store)
    assert report.customers == 0 and report.unchanged > 0
