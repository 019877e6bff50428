"""The same online guarantees against a real redis-server on a free loopback port."""

from __future__ import annotations

import shutil
import subprocess
import time

import pandas as pd
import pytest
import redis

from feature_repo.lookup import get_online_features
from feature_repo.materialize import materialize_latest
from feature_repo.store import apply_definitions, open_store
from tests.conftest import free_port
from tests.feature_store.test_feature_store import _assert_online_equals_latest_offline


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


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


def test_redis_unknown_customer_is_not_found(redis_store):
    (row,) = get_online_features(redis_store, ["NOBODY"])
    assert not row.found


def test_second_materialization_writes_only_changes(redis_store):
    report = materialize_latest(redis_store)
    assert report.customers == 0 and report.unchanged > 0
