"""Throwaway local services for tests and benchmarks: a free loopback port, a redis-server, and
waiting for a server we started to answer /health.

One implementation for both (bench imports it from here), so that "how we start Redis" cannot
drift between the suite that checks the product and the benchmarks that measure it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class ServiceMissing(RuntimeError):
    """The service's binary is not installed here."""


def wait_until_ready(
    base_url: str, process: subprocess.Popen, seconds: float = 90, path: str = "/health"
) -> None:
    """Return once GET {base_url}{path} answers 200; fail fast if the process has exited."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}{path}", timeout=30).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{base_url}{path} not ready within {seconds} s")


def stop(process: subprocess.Popen, seconds: float = 30) -> None:
    """SIGTERM (a clean shutdown), then SIGKILL if it has not exited within `seconds`."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def redis_server(workdir: Path, port: int | None = None) -> Iterator[str]:
    """A real redis-server on a loopback port, without persistence; yields "127.0.0.1:PORT".

    Raises ServiceMissing when redis-server is not installed.
    """
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceMissing("redis-server is not installed (apt-get install -y redis-server)")
    port = port or free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            raise RuntimeError("redis-server did not start within 10 s")
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
