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

A server that advertises N workers keeps N, as gunicorn's arbiter does: when a worker dies
(a crash, an OOM kill, `kill -9`), the parent logs a line naming it (slot, pid, exit code or
signal) and starts a replacement on the same slot. Only a crash loop stops the server: more
than API_WORKER_RESTART_LIMIT deaths within API_WORKER_RESTART_WINDOW_SECONDS, then every
worker is stopped and the command exits non-zero, for the supervisor (systemd, Kubernetes) to
act. SIGTERM/SIGINT stop the workers gracefully and exit 0.

The parent also owns the board through which the workers agree on the model after
POST /admin/reload (api/worker_sync.py).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import signal
import socket
import sys
import time
from collections import deque
from multiprocessing.connection import wait

import uvicorn

from api.middleware import configure_logging
from api.settings import Settings
from api.worker_sync import Board, Follower

BACKLOG = 2048  # uvicorn's default
# after a graceful shutdown uvicorn re-raises the signal it got, so -15/-2 are clean too
CLEAN_EXITS = {0, -signal.SIGTERM, -signal.SIGINT}

log = logging.getLogger("api.server")


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A socket of this worker's own, bound to host:port, which other workers may bind too.

    Not listening yet: uvicorn listens once the app has started up (model loaded), so the
    kernel sends a starting (or restarted) worker no connection it would leave waiting."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def serve_worker(host: str, port: int, slot: int | None = None, board: Board | None = None):
    """One worker; with a board (several workers), it follows reloads made by the others."""
    from api.main import app  # imported here: a spawned worker builds its own app

    if board is not None and slot is not None:
        app.state.peers = (board, slot)
        Follower(board, slot, app.state.serving).start()
    config = uvicorn.Config(
        app, host=host, port=port, loop="uvloop", http="httptools", access_log=False,
        backlog=BACKLOG,
    )  # fmt: skip
    uvicorn.Server(config).run(sockets=[reuseport_socket(host, port)])


def describe_exit(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"was killed by signal {signal.Signals(-exitcode).name}"
    return f"exited with code {exitcode}"


class CrashLoop:
    """Counts worker deaths in a sliding window; too many means restarting will not help."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit, self.window = limit, window_seconds
        self.deaths: deque[float] = deque()

    def died(self) -> bool:
        """Record a death; True if there were more than `limit` within the window."""
        now = time.monotonic()
        self.deaths.append(now)
        while self.deaths and now - self.deaths[0] > self.window:
            self.deaths.popleft()
        return len(self.deaths) > self.limit


def serve(settings: Settings) -> int:
    if settings.workers == 1:
        serve_worker(settings.host, settings.port)
        return 0
    configure_logging()
    spawn = multiprocessing.get_context("spawn")
    board = Board(spawn, settings.workers)

    def start(slot: int) -> multiprocessing.process.BaseProcess:
        worker = spawn.Process(
            target=serve_worker,
            args=(settings.host, settings.port, slot, board),
            name=f"api-{slot}",
        )
        worker.start()
        return worker

    workers = [start(slot) for slot in range(settings.workers)]
    asked_to_stop: list[int] = []

    def stop(signum: int, frame: object) -> None:
        asked_to_stop.append(signum)
        for worker in workers:
            if worker.is_alive():
                worker.terminate()  # SIGTERM: uvicorn finishes the requests in flight

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    crash_loop = CrashLoop(settings.worker_restart_limit, settings.worker_restart_window_seconds)
    gave_up = False
    while not asked_to_stop and not gave_up:
        wait([w.sentinel for w in workers], timeout=1.0)
        for slot, worker in enumerate(workers):
            if worker.exitcode is None or asked_to_stop:
                continue
            what = f"worker {slot} (pid {worker.pid}) {describe_exit(worker.exitcode)}"
            if crash_loop.died():
                log.error(
                    "%s; more than %d worker deaths within %g s: stopping the server",
                    what, crash_loop.limit, crash_loop.window,
                )  # fmt: skip
                gave_up = True
                break
            workers[slot] = start(slot)
            log.error("%s; restarted it as pid %d", what, workers[slot].pid)
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    for worker in workers:
        worker.join()
    return 1 if gave_up or any(w.exitcode not in CLEAN_EXITS for w in workers) else 0


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(
        prog="python -m api",
        description="Serve the prediction API and the web form. Configured through API_* "
        "environment variables (API_HOST, API_PORT, API_WORKERS, API_MODELS_DIR, ...; see "
        "api/settings.py); one SO_REUSEPORT socket per worker; a dead worker is restarted.",
    ).parse_args(argv)
    sys.exit(serve(Settings()))
