"""How the workers of one `python -m api` agree on the model they serve.

Each worker is its own process with its own ServingState, so a reload swapped the model in
the one worker that received POST /admin/reload: with 2 workers, 28 of 60 fresh connections
after a 200 still reached the old version. The parent process (api/server.py) therefore owns
a small board in shared memory (multiprocessing), which outlives any worker:

- `generation`: bumped by the worker that received the reload, after it loaded and checked
  the new model itself (a refused artifact bumps nothing: the 409 and the old model stay);
- per worker slot: the generation it serves, its pid, whether its last load worked, and a
  short text: the model directory it loaded, or why it could not.

Every worker runs a `Follower` thread that looks at `generation` every POLL_SECONDS and, when
it is ahead of its slot, reloads through the same `ServingState.reload` and fills its slot.
The worker that received the request answers 200 only once every slot serves that
generation from the same model directory; otherwise a 503 names the worker(s) that did not.

Why shared integers polled, not a lock or a pipe: each slot has a single writer (its worker)
and `generation` only grows, so no lock is needed, and a worker killed at any instant can
never leave a lock held or a message half-relayed. Its slot simply does not confirm (the
reload says so), the parent starts a replacement, and that one loads models/current at
start-up and confirms the generation it started at.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the parent process imports this module: it needs no model code
    from api.serving import ServingState

log = logging.getLogger("api.worker_sync")

POLL_SECONDS = 0.1
TEXT_BYTES = 512  # per slot: a model directory or a short error
WRITING = -2  # in served[slot]: ok and text are being written


class IncompleteReload(RuntimeError):
    """Some workers did not confirm the new model in time, or serve another one."""


class Board:
    """The shared memory, created by the parent; passed to each spawned worker as an argument.

    served[slot] is WRITING while ok and text change, and the generation once they are
    written: whoever sees a generation there sees the text that goes with it.
    """

    def __init__(self, context: Any, workers: int) -> None:
        self.workers = workers
        self.generation = context.Value("q", 0, lock=False)
        self.served = context.Array("q", [-1] * workers, lock=False)
        self.pids = context.Array("q", workers, lock=False)
        self.ok = context.Array("b", workers, lock=False)
        self.texts = context.Array("c", workers * TEXT_BYTES, lock=False)

    def write(self, slot: int, generation: int, ok: bool, text: str) -> None:
        data = text.encode()[: TEXT_BYTES - 1].ljust(TEXT_BYTES, b"\0")
        self.served[slot] = WRITING
        self.ok[slot] = ok
        self.texts[slot * TEXT_BYTES : (slot + 1) * TEXT_BYTES] = data
        self.served[slot] = generation

    def read(self, slot: int) -> tuple[int, bool, str]:
        """(generation, ok, text) of one slot, re-read if its worker wrote meanwhile; a slot
        being written (or whose worker died writing it) has confirmed nothing."""
        while True:
            served = self.served[slot]
            if served == WRITING:
                return WRITING, False, ""
            ok = bool(self.ok[slot])
            raw = self.texts[slot * TEXT_BYTES : (slot + 1) * TEXT_BYTES]
            if self.served[slot] == served:
                return served, ok, raw.split(b"\0", 1)[0].decode(errors="replace")

    def name(self, slot: int) -> str:
        return f"worker {slot} (pid {self.pids[slot]})"


class Follower(threading.Thread):
    """Keeps this worker's model at the board's generation; started before the app serves."""

    def __init__(self, board: Board, slot: int, state: ServingState) -> None:
        super().__init__(name=f"reload-follower-{slot}", daemon=True)
        self.board, self.slot, self.state = board, slot, state
        # what start-up loads is models/current as of now: this generation, or a later one
        self.start_generation = board.generation.value
        board.pids[slot] = os.getpid()
        board.served[slot] = -1  # a replacement worker confirms nothing until it has loaded

    def run(self) -> None:
        board, slot = self.board, self.slot
        while True:
            time.sleep(POLL_SECONDS)
            served = board.served[slot]
            wanted = board.generation.value
            if wanted > max(served, self.start_generation):
                self._reload(wanted)
            elif served < self.start_generation and self.state.loaded is not None:
                board.write(slot, self.start_generation, True, _directory(self.state))

    def _reload(self, generation: int) -> None:
        try:
            _, model = self.state.reload()
        except Exception as exc:
            log.error("worker %d could not load the new model: %s", self.slot, exc)
            self.board.write(self.slot, generation, False, str(exc))
            return
        self.board.write(self.slot, generation, True, str(model.directory))


def _directory(state: ServingState) -> str:
    serving = state.loaded
    return str(serving.model.directory) if serving is not None else ""


def confirm_everywhere(board: Board, slot: int, directory: str, timeout: float) -> None:
    """Publish a new generation served (here, already) from `directory`; return once every
    worker serves it too. Raises IncompleteReload naming those that do not after `timeout`."""
    generation = board.generation.value + 1
    board.write(slot, generation, True, directory)
    if board.generation.value < generation:
        board.generation.value = generation
    deadline = time.monotonic() + timeout
    while True:
        late, wrong = [], []
        for other in range(board.workers):
            served, ok, text = board.read(other)
            if served < generation:
                late.append(board.name(other))
            elif not ok:
                wrong.append(f"{board.name(other)} could not load it: {text}")
            elif text != directory:
                wrong.append(f"{board.name(other)} serves {text}")
        if not late and not wrong:
            return
        if not late or time.monotonic() > deadline:
            break
        time.sleep(POLL_SECONDS / 2)
    problems = wrong + [f"{w} did not confirm within {timeout:g} s" for w in late]
    raise IncompleteReload(
        f"this worker serves {directory}, but " + "; ".join(problems) + ". Retry the reload."
    )
