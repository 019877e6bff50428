"""POST /admin/reload under `python -m api` with 2 workers: a 200 means every worker serves the
new version (any fresh connection, whichever worker the kernel gives it to, sees it); a worker
that cannot confirm in time turns the answer into a 503 that names it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from tests.api.conftest import ADMIN_TOKEN, copy_models
from tests.conftest import REPO_ROOT
from tests.support.services import free_port, wait_until_ready

pytestmark = pytest.mark.slow


@pytest.fixture()
def two_workers(trained_models, feature_store, tmp_path):
    """`python -m api` with 2 workers on its own copy of the models folder; yields
    (base URL, models folder, the worker processes)."""
    models_dir = copy_models(trained_models, tmp_path / "models")
    port = free_port()
    env = {
        **os.environ,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "API_WORKERS": "2",
        "API_MODELS_DIR": str(models_dir),
        "API_FEAST_DATA_DIR": str(feature_store.feast_data_dir),
        "API_ADMIN_TOKEN": ADMIN_TOKEN,
        "API_RELOAD_TIMEOUT_SECONDS": "5",
    }
    with (tmp_path / "server.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "api"], cwd=REPO_ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base_url, server, seconds=240)
        deadline = time.monotonic() + 180
        while len(workers := _workers(server)) < 2 or not all(_listens(w, port) for w in workers):
            assert time.monotonic() < deadline, "the 2 workers did not both listen"
            time.sleep(0.2)
        yield base_url, models_dir, workers
    finally:
        for worker in _workers(server):
            worker.resume()  # a test may have stopped one
        server.terminate()
        server.wait(timeout=30)


def _workers(server: subprocess.Popen) -> list[psutil.Process]:
    children = psutil.Process(server.pid).children()
    return [w for w in children if "spawn_main" in " ".join(w.cmdline())]


def _listens(worker: psutil.Process, port: int) -> bool:
    return any(
        c.status == psutil.CONN_LISTEN and c.laddr.port == port
        for c in worker.net_connections(kind="tcp")
    )


def _promote(models_dir, name: str) -> None:
    """Copy the current version as `name` (its metadata says so) and point current at it."""
    source = (models_dir / "current").resolve()
    shutil.copytree(source, models_dir / name)
    metadata = json.loads((models_dir / name / "metadata.json").read_text())
    (models_dir / name / "metadata.json").write_text(json.dumps({**metadata, "version": name}))
    (models_dir / "current").unlink()
    (models_dir / "current").symlink_to(name)


def _versions_seen(base_url: str, connections: int) -> list[str]:
    """GET /model over `connections` fresh connections (the kernel picks each one's worker)."""
    seen = []
    for _ in range(connections):
        with httpx.Client(base_url=base_url, timeout=30) as client:  # a new connection each
            seen.append(client.get("/model").json()["version"])
    return seen


def test_a_200_reload_means_every_worker_serves_the_new_version(two_workers):
    base_url, models_dir, _ = two_workers
    old = httpx.get(f"{base_url}/model").json()["version"]
    _promote(models_dir, "v-everywhere")
    response = httpx.post(
        f"{base_url}/admin/reload", headers={"X-Admin-Token": ADMIN_TOKEN}, timeout=60
    )
    assert response.status_code == 200, response.text
    assert response.json()["previous_version"] == old
    assert response.json()["model_version"] == "v-everywhere"
    # before: 28 of 60 reached the worker that had not reloaded
    assert set(_versions_seen(base_url, 60)) == {"v-everywhere"}


def _connection_to(worker: psutil.Process, port: int) -> socket.socket:
    """A connection that the kernel gave to `worker` (and that it accepted)."""
    for _ in range(100):
        conn = socket.create_connection(("127.0.0.1", port))
        mine = conn.getsockname()[1]
        for _ in range(20):  # accepted on the worker's next loop turn
            if any(c.raddr and c.raddr.port == mine for c in worker.net_connections("tcp")):
                return conn
            time.sleep(0.01)
        conn.close()
    raise AssertionError(f"no connection reached worker {worker.pid}")


def test_a_worker_that_cannot_confirm_is_named_in_a_503(two_workers):
    """A stopped worker (SIGSTOP: alive, but loading nothing) cannot confirm: the worker that
    got the reload answers 503 naming it, instead of a 200 that half the connections belie.
    Once it runs again it catches up by itself, and the next reload is a 200."""
    base_url, models_dir, (answering, stopped) = two_workers
    port = int(base_url.rsplit(":", 1)[1])
    _promote(models_dir, "v-partial")
    conn = _connection_to(answering, port)
    stopped.suspend()
    try:
        with conn:
            conn.sendall(
                b"POST /admin/reload HTTP/1.1\r\nHost: api\r\nX-Admin-Token: "
                + ADMIN_TOKEN.encode()
                + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            reply = b""
            while chunk := conn.recv(65536):
                reply += chunk
    finally:
        stopped.resume()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503"), reply[:500]
    detail = json.loads(body)["detail"]
    assert f"pid {stopped.pid}" in detail and "did not confirm" in detail, detail
    assert f"pid {answering.pid}" not in detail, detail

    deadline = time.monotonic() + 60  # the resumed worker follows the reload by itself
    while set(_versions_seen(base_url, 20)) != {"v-partial"}:
        assert time.monotonic() < deadline, "the stopped worker never caught up"
        time.sleep(0.5)
    response = httpx.post(
        f"{base_url}/admin/reload", headers={"X-Admin-Token": ADMIN_TOKEN}, timeout=60
    )
    assert response.status_code == 200, response.text
