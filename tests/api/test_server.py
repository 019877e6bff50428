"""`python -m api`: every worker listens on its own SO_REUSEPORT socket, so a burst of
keep-alive connections is spread over the workers instead of landing on whichever woke first."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import psutil

from bench.services import free_port, wait_until_ready
from tests.conftest import REPO_ROOT


def _listening_sockets(port: int) -> set[int]:
    """Inodes of the TCP sockets listening on this port (one per socket, shared or not)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":
                    inodes.add(int(fields[9]))
    return inodes


def _start(trained_models, feature_store, tmp_path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "API_WORKERS": "2",
        "API_MODELS_DIR": str(trained_models),
        "API_FEAST_DATA_DIR": str(feature_store.feast_data_dir),
    }
    with (tmp_path / "server.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "api"], cwd=REPO_ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", server)
    except BaseException:
        server.kill()
        raise
    return server, port


def _workers(server: subprocess.Popen) -> list[psutil.Process]:
    """The worker processes (not multiprocessing's resource tracker)."""
    return [
        w for w in psutil.Process(server.pid).children() if "spawn_main" in " ".join(w.cmdline())
    ]


def test_each_worker_has_its_own_socket_and_a_burst_reaches_them_all(
    trained_models, feature_store, tmp_path
):
    server, port = _start(trained_models, feature_store, tmp_path)
    try:
        deadline = time.monotonic() + 60  # the second worker may still be loading the model
        while len(_listening_sockets(port)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_listening_sockets(port)) == 2  # uvicorn --workers 2 shares one: 1
        workers = _workers(server)

        burst = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
        try:
            request = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
            for conn in burst:
                conn.sendall(request)
            for conn in burst:
                assert conn.recv(4096).startswith(b"HTTP/1.1 ")
            per_worker = [
                sum(
                    1
                    for c in w.net_connections(kind="tcp")
                    if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
                )
                for w in workers
            ]
        finally:
            for conn in burst:
                conn.close()
        assert len(per_worker) == 2 and sum(per_worker) == 32
        # kernel hashing: P(a worker gets fewer than 4 of 32) ≈ 2e-6
        assert min(per_worker) >= 4, per_worker
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0  # SIGTERM stops every worker cleanly
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)


def test_a_worker_that_dies_takes_the_server_down_with_a_failure(
    trained_models, feature_store, tmp_path
):
    """Half a server would go on answering with half its capacity: better to exit non-zero
    and let the supervisor restart the whole of it."""
    server, _ = _start(trained_models, feature_store, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while len(_workers(server)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        first, second = _workers(server)
        first.kill()
        assert server.wait(timeout=60) == 1
        assert not second.is_running() or second.status() == psutil.STATUS_ZOMBIE
    finally:
        if server.poll() is None:
            server.kill()
