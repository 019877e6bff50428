"""The same online guarantees against a real redis-server on a free loopback port."""

from __future__ import annotations

import pandas as pd
import pytest

from feature_repo.lookup import get_online_features
from feature_repo.materialize import materialize_latest
from feature_repo.online_reader import OnlineReader
from feature_repo.store import apply_definitions, open_store
from tests.conftest import redis_server
from tests.feature_store.test_feature_store import _assert_online_equals_latest_offline


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


def test_redis_unknown_customer_is_not_found(redis_store):
    (row,) = get_online_features(redis_store, ["NOBODY"])
    assert not row.found


def test_second_materialization_writes_only_changes(redis_store):
    report = materialize_latest(redis_store)
    assert report.customers == 0 and report.unchanged > 0
