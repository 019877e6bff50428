"""`python -m api`: every worker listens on its own SO_REUSEPORT socket, so a burst of
keep-alive connections is spread over the workers instead of landing on whichever woke first;
a worker that dies is replaced (and named in the log), and only a crash loop stops the server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import psutil

from tests.conftest import REPO_ROOT
from tests.support.services import free_port, wait_until_ready


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


def _start(
    trained_models, feature_store, tmp_path, **settings: str
) -> tuple[subprocess.Popen, int]:
    """`python -m api` with 2 workers on a free port (API_* overrides as keywords)."""
    port = free_port()
    env = {
        **os.environ,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "API_WORKERS": "2",
        "API_MODELS_DIR": str(trained_models),
        "API_FEAST_DATA_DIR": str(feature_store.feast_data_dir),
        **{f"API_{name.upper()}": value for name, value in settings.items()},
    }
    with (tmp_path / "server.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "api"], cwd=REPO_ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", server, seconds=240)
        deadline = time.monotonic() + 180  # the other worker may still be loading the model
        while len(_listening_sockets(port)) < 2:  # a worker listens once it has started up
            assert time.monotonic() < deadline, "the 2 workers did not both listen"
            time.sleep(0.2)
    except BaseException:
        server.kill()
        raise
    return server, port


def _workers(server: subprocess.Popen) -> list[psutil.Process]:
    """The live worker processes (not multiprocessing's resource tracker, nor one that died
    and is not reaped yet)."""
    workers = []
    for child in psutil.Process(server.pid).children():
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                workers.append(child)
        except psutil.Error:  # a zombie has no command line
            pass
    return workers


def test_each_worker_has_its_own_socket_and_a_burst_reaches_them_all(
    trained_models, feature_store, tmp_path
):
    server, port = _start(trained_models, feature_store, tmp_path)
    try:
        deadline = time.monotonic() + 180  # the second worker may still be loading the model
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


def _wait_for_workers(server: subprocess.Popen, count: int, but_not: set[int] = frozenset()):
    """The worker processes once there are `count` of them, none of them in `but_not`."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        workers = [w for w in _workers(server) if w.pid not in but_not]
        if len(workers) == count:
            return workers
        time.sleep(0.1)
    raise AssertionError(f"not {count} workers within 120 s: {_workers(server)}")


def _server_log(tmp_path) -> list[dict]:
    lines = (tmp_path / "server.log").read_text().splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_a_killed_worker_is_replaced_and_named_in_the_log(trained_models, feature_store, tmp_path):
    """A server that advertises 2 workers keeps 2: `kill -9` of one is logged (which worker,
    which signal) and a replacement serves again, the other worker answering meanwhile."""
    server, port = _start(trained_models, feature_store, tmp_path)
    try:
        first, second = _wait_for_workers(server, 2)
        first.kill()  # SIGKILL: no chance to clean up or log anything itself
        first.wait(timeout=10)
        for _ in range(10):  # the survivor (and soon the replacement) keep answering
            assert httpx.get(f"http://127.0.0.1:{port}/model", timeout=30).status_code == 200
        assert server.poll() is None, "the server stopped with its worker"
        replacement = _wait_for_workers(server, 1, but_not={first.pid, second.pid})[0]
        deadline = time.monotonic() + 180
        while len(_listening_sockets(port)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_listening_sockets(port)) == 2  # the replacement listens on its own socket
        assert second.is_running() and replacement.is_running()
        deaths = [e["message"] for e in _server_log(tmp_path) if e.get("logger") == "api.server"]
        assert len(deaths) == 1, deaths
        assert f"pid {first.pid}" in deaths[0] and "SIGKILL" in deaths[0], deaths
        assert f"pid {replacement.pid}" in deaths[0], deaths
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0  # a replaced worker still stops cleanly


def test_workers_that_keep_dying_stop_the_server_with_a_failure(
    trained_models, feature_store, tmp_path
):
    """Restarting helps a worker that died once, not a crash loop: past the limit of deaths
    within the window, every worker is stopped and the command exits non-zero for the
    supervisor."""
    server, _ = _start(trained_models, feature_store, tmp_path, worker_restart_limit="1")
    try:
        first, second = _wait_for_workers(server, 2)
        first.kill()
        replacement = _wait_for_workers(server, 1, but_not={first.pid, second.pid})[0]
        replacement.send_signal(signal.SIGKILL)  # the second death within the window
        assert server.wait(timeout=60) == 1
        assert not second.is_running() or second.status() == psutil.STATUS_ZOMBIE
        messages = [e["message"] for e in _server_log(tmp_path) if e.get("logger") == "api.server"]
        assert f"pid {replacement.pid}" in messages[-1] and "stopping the server" in messages[-1]
    finally:
        if server.poll() is None:
            server.kill()
