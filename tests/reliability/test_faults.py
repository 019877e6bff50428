"""Faults while serving: the online store dies under a running server, or is not there at
start-up. The API must answer clear 503s (never a crash, a 500 or a traceback) and come back
by itself when the store does.

Covered elsewhere: Redis unreachable from start-up then arriving
(tests/api/test_operations.py::test_store_outage_is_503_then_recovers_by_itself), a corrupt or
mismatched artifact on reload (…::test_bad_artifact_is_refused_and_the_old_model_keeps_serving),
a `dbt build` killed mid-write (tests/reliability/test_interrupted_dbt_build.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from api.main import create_app
from feature_repo.materialize import materialize_latest
from feature_repo.store import open_store
from tests.conftest import REPO_ROOT
from tests.support.services import free_port, wait_until_ready

pytestmark = pytest.mark.slow


@contextmanager
def persistent_redis(workdir: Path, port: int) -> Iterator[subprocess.Popen]:
    """redis-server with an append-only file synced on every write, as a production Redis
    keeps its data across a crash; a restart in the same folder has the same keys."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "yes", "--appendfsync", "always", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        _wait_for(lambda: _pings(client), 10, "redis-server did not start")
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def _wait_for(condition: Callable[[], bool], seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.1)


def _assert_clear_503(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:500])
    assert "unreachable" in response.json()["detail"]
    assert response.headers["retry-after"] == "5"
    assert "Traceback" not in response.text


def test_redis_killed_under_a_serving_api_is_503_then_recovers(
    trained_models, feature_store, known_ids, tmp_path
):
    port = free_port()
    redis_dir = tmp_path / "redis"
    redis_dir.mkdir()
    data_dir = tmp_path / "feast"
    data_dir.mkdir()
    shutil.copy(feature_store.feast_data_dir / "registry.db", data_dir / "registry.db")
    url = f"127.0.0.1:{port}"
    api_port = free_port()
    base_url = f"http://127.0.0.1:{api_port}"
    env = {
        **os.environ,
        "API_MODELS_DIR": str(trained_models),
        "API_FEAST_DATA_DIR": str(data_dir),
        "API_REDIS_URL": url,
    }
    one = {"customer_id": known_ids[0]}
    with persistent_redis(redis_dir, port) as first_redis:
        assert materialize_latest(open_store(data_dir=data_dir, redis_url=url)).customers > 0
        log_path = tmp_path / "server.log"
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
                 "--port", str(api_port)],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_until_ready(base_url, server)
            with httpx.Client(base_url=base_url, timeout=60) as client:
                assert client.post("/predict", json=one).status_code == 200

                first_redis.send_signal(signal.SIGKILL)  # a crash, not a shutdown
                first_redis.wait(timeout=10)
                # each of these takes seconds: redis-py retries a refused connection 3 times
                # with jittered exponential backoff (up to ~14 s) before Feast gives up
                _assert_clear_503(client.post("/predict", json=one))
                _assert_clear_503(client.get(f"/customers/{known_ids[1]}/prediction"))
                _assert_clear_503(
                    client.post("/predict/batch", json={"customer_ids": known_ids[:3]})
                )
                health = client.get("/health")
                assert health.status_code == 503
                assert health.json()["online_store"] == "unreachable"
                assert client.get("/model").status_code == 200  # the rest still answers
                assert server.poll() is None, "the server died with Redis"

                with persistent_redis(redis_dir, port):  # Redis comes back, same data
                    # the same server process, no restart and no re-materialization
                    _wait_for(
                        lambda: client.post("/predict", json=one).status_code == 200,
                        15,
                        "predictions did not come back after Redis returned",
                    )
                    batch = client.post("/predict/batch", json={"customer_ids": known_ids[:3]})
                    assert batch.status_code == 200 and batch.json()["found"] == 3
                    assert client.get("/health").status_code == 200
                assert server.poll() is None
        finally:
            server.terminate()
            server.wait(timeout=20)
    assert "Traceback" not in log_path.read_text()


def test_missing_online_store_file_starts_not_ready_then_ready_after_materialization(
    api_settings, feature_store, known_ids, tmp_path
):
    data_dir = tmp_path / "feast"
    data_dir.mkdir()  # the registry is there (feast apply ran), the online store file is not
    shutil.copy(feature_store.feast_data_dir / "registry.db", data_dir / "registry.db")
    settings = api_settings.model_copy(update={"feast_data_dir": data_dir})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        health = client.get("/health")  # the service started: it answers
        assert health.status_code == 503 and health.json()["ready"] is False
        prediction = client.post("/predict", json={"customer_id": known_ids[0]})
        assert prediction.status_code == 503, prediction.text
        assert "Traceback" not in prediction.text

        report = materialize_latest(open_store(data_dir=data_dir))  # what `make features` does
        assert report.customers > 0

        health = client.get("/health")  # the same app, no restart
        assert health.status_code == 200 and health.json()["ready"] is True
        prediction = client.post("/predict", json={"customer_id": known_ids[0]})
        assert prediction.status_code == 200 and 0 <= prediction.json()["probability"] <= 1
