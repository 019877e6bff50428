"""The server behind `python -m api`: `api.main:app` on API_HOST:API_PORT, API_WORKERS processes.

The production settings: uvloop and httptools, no uvicorn access log (the app writes one JSON
line per request itself), and one listening socket per worker, bound with SO_REUSEPORT, so
that the kernel spreads new connections evenly over the workers.

Why not `uvicorn --workers N`: its workers share one socket, and whichever wakes first accepts
every connection waiting. A client that opens its keep-alive connections in a burst (a proxy,
wrk) then lands mostly on one worker: wrk's 32 connections split 31/1, 26/6 or 1/31 in the
runs where the API fell behind 1,000 req/s without caches (one worker saturated near
830 req/s, the other idle), and 17/15 in the runs that kept up (`ss -tnp` during
`bench.serving --result-cache 0`).

If a worker dies, the others are stopped and the command exits non-zero, for the supervisor
(systemd, Kubernetes) to restart the whole server.
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import socket
import sys
from multiprocessing.connection import wait

import uvicorn

from api.settings import Settings

BACKLOG = 2048  # uvicorn's default


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket of this worker's own on host:port, which other workers may bind too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


def serve_worker(host: str, port: int) -> None:
    config = uvicorn.Config(
        "api.main:app", host=host, port=port, loop="uvloop", http="httptools", access_log=False
    )
    uvicorn.Server(config).run(sockets=[listening_socket(host, port)])


def serve(settings: Settings) -> int:
    if settings.workers == 1:
        serve_worker(settings.host, settings.port)
        return 0
    spawn = multiprocessing.get_context("spawn")
    workers = [
        spawn.Process(target=serve_worker, args=(settings.host, settings.port), name=f"api-{i}")
        for i in range(settings.workers)
    ]
    for worker in workers:
        worker.start()

    asked_to_stop = []

    def stop(signum: int, frame: object) -> None:
        asked_to_stop.append(signum)
        for worker in workers:
            if worker.is_alive():
                worker.terminate()  # SIGTERM: uvicorn finishes the requests in flight

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    wait([w.sentinel for w in workers])  # the first one to end ends the server
    died_on_its_own = not asked_to_stop
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    for worker in workers:
        worker.join()
    # after a graceful shutdown uvicorn re-raises the signal it got, so -15/-2 are clean too
    clean = {0, -signal.SIGTERM, -signal.SIGINT}
    return 1 if died_on_its_own or any(w.exitcode not in clean for w in workers) else 0


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(
        prog="python -m api",
        description="Serve the prediction API and the web form. Configured through API_* "
        "environment variables (API_HOST, API_PORT, API_WORKERS, API_MODELS_DIR, ...; see "
        "api/settings.py); one SO_REUSEPORT socket per worker.",
    ).parse_args(argv)
    sys.exit(serve(Settings()))
