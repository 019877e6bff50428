"""What was served is kept: every prediction the API answers, as rows in Parquet files.

Monitoring compares what the model said with what customers then did, so each answered
prediction is one row (SCHEMA): the customer, the as-of date of the features it was scored
on, the model version, the probability, the tier, when it was answered and through which
endpoint (by_id: POST /predict and GET /customers/{id}/prediction; batch; what_if).

The hot path only appends a small tuple per prediction to a bounded in-memory queue under a
lock (`ServeLog.record`): no I/O, no allocation beyond the tuple. A background thread
(`ServeLog.run`) takes the whole queue every `flush_seconds`, or as soon as `flush_rows`
wait, and writes one file per flush and day:

    <dir>/date=YYYY-MM-DD/part-<pid>-<run>-<seq>.parquet

Each worker process of `python -m api` has its own ServeLog and writes its own files, so no
lock is shared between processes; `<run>` is random per start, because a restarted worker
(or a container) may get the pid of an earlier one and must not overwrite its files. A file
is written under a hidden temporary name and renamed, so a reader never sees half of one.

What may be lost, and is counted (`ServeLog.status`, GET /health/serve-log):
- the queue full (the writer fell behind, or the disk is slow): the new rows are dropped,
  a warning is logged at the first drop and every `log_every` drops after;
- a write failure (folder unwritable, disk full): the rows of that flush are lost, the
  serving goes on, a warning is logged at the first failure and every `log_every` after.
A clean shutdown (the app's lifespan exit, e.g. SIGTERM) writes everything still queued.

`read(directory)` is the one reader: every row as a pyarrow Table (DuckDB queries it as is).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

log = logging.getLogger("api.serve_log")

Endpoint = Literal["by_id", "batch", "what_if"]

SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.string()),  # null for what-if (no customer)
        pa.field("features_as_of", pa.timestamp("us", tz="UTC")),  # null for what-if
        pa.field("model_version", pa.string(), nullable=False),
        pa.field("probability", pa.float64(), nullable=False),
        pa.field("tier", pa.string(), nullable=False),
        pa.field("served_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("endpoint", pa.string(), nullable=False),
    ]
)
# a queued row: SCHEMA's columns, served_at as time.time() (converted in the writer)
Row = tuple[str | None, datetime | None, str, float, str, float, str]

CHUNK_ROWS = 2000
SECONDS_PER_DAY = 86_400
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

PARTITIONING = ds.partitioning(pa.schema([("date", pa.string())]), flavor="hive")
FILE_SCHEMA = SCHEMA.append(pa.field("date", pa.string()))  # with the folder's date


class ServeLog:
    """This process's queue of served predictions and the thread that writes them."""

    def __init__(
        self,
        directory: Path,
        queue_rows: int,
        flush_seconds: float,
        flush_rows: int,
        log_every: int = 1000,
    ) -> None:
        self.directory = directory
        self.queue_rows, self.flush_seconds, self.flush_rows = queue_rows, flush_seconds, flush_rows
        self.log_every = log_every
        self._pending: list[Row] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._run_id = uuid.uuid4().hex[:8]
        self._seq = 0
        self.pid = os.getpid()
        self.written_rows = self.files_written = 0
        self.dropped_rows = 0
        self.failed_writes = self.failed_rows = 0
        self.last_error: str | None = None

    # -- the hot path -------------------------------------------------------------------
    def record(self, endpoint: Endpoint, predictions: Iterable[Mapping[str, Any]]) -> None:
        """Queue one row per prediction (dicts shaped like api.schemas.Prediction or
        Scores); those that do not fit in the queue are counted as dropped."""
        now = time.time()
        rows = [
            (
                p.get("customer_id"),
                p.get("features_as_of"),
                p["model_version"],
                p["probability"],
                p["tier"],
                now,
                endpoint,
            )
            for p in predictions
        ]
        with self._lock:
            room = self.queue_rows - len(self._pending)
            if len(rows) > room:
                before = self.dropped_rows
                self.dropped_rows += len(rows) - max(room, 0)
                rows = rows[: max(room, 0)]
                if before == 0 or before // self.log_every != self.dropped_rows // self.log_every:
                    log.warning(
                        "serve log queue full (%d rows): %d predictions not logged so far "
                        "(API_SERVE_LOG_QUEUE_ROWS, API_SERVE_LOG_FLUSH_SECONDS)",
                        self.queue_rows, self.dropped_rows,
                    )  # fmt: skip
            self._pending += rows
            full = len(self._pending) >= self.flush_rows
        if full:
            self._wake.set()

    # -- the writer thread --------------------------------------------------------------
    def start(self) -> None:
        """Start the writer in this process (the app's lifespan: each worker its own)."""
        self.pid = os.getpid()
        self._stopping = False
        self._thread = threading.Thread(target=self.run, name="serve-log-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        """Write everything queued, then stop the writer (the app's lifespan exit)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():  # stuck in a write: never two writers at once
                log.warning("serve log: the writer did not finish within %g s", timeout)
                return
            self._thread = None
        self.flush()  # the writer never started, or records came after its last take

    def run(self) -> None:
        while not self._stopping:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Take the queue and write it; never raises (a failure is counted and logged)."""
        with self._lock:
            rows, self._pending = self._pending, []
        if not rows:
            return
        try:
            written = self._write(rows)
        except Exception as exc:  # unwritable folder, full disk, …: serving goes on
            self.failed_writes += 1
            self.failed_rows += len(rows)
            self.last_error = type(exc).__name__
            if self.failed_writes == 1 or self.failed_writes % self.log_every == 0:
                log.warning(
                    "serve log: %d predictions not written to %s (%d failed writes so far): "
                    "%s: %s",
                    len(rows), self.directory, self.failed_writes, type(exc).__name__, exc,
                )  # fmt: skip
            return
        self.written_rows += len(rows)
        self.files_written += written

    def _write(self, rows: list[Row]) -> int:
        """One file per day the rows were served on (a flush may span midnight)."""
        by_day: dict[int, list[Row]] = {}
        for row in rows:
            by_day.setdefault(int(row[5] // SECONDS_PER_DAY), []).append(row)
        for day, day_rows in sorted(by_day.items()):
            folder = self.directory / f"date={date.fromordinal(EPOCH_ORDINAL + day).isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            name = f"part-{self.pid}-{self._run_id}-{self._seq:06d}.parquet"
            self._seq += 1
            temporary = folder / f".{name}.tmp"  # hidden: readers skip it
            pq.write_table(_table(day_rows), temporary)
            os.replace(temporary, folder / name)
        return len(by_day)

    def status(self) -> dict[str, Any]:
        """This worker's counters (each worker process counts its own)."""
        return {
            "enabled": True,
            "worker_pid": self.pid,
            "queued_rows": len(self._pending),
            "queue_rows": self.queue_rows,
            "written_rows": self.written_rows,
            "files_written": self.files_written,
            "dropped_rows": self.dropped_rows,
            "failed_writes": self.failed_writes,
            "failed_rows": self.failed_rows,
            "last_error": self.last_error,
        }


def _table(rows: list[Row]) -> pa.Table:
    """The rows as Arrow, converted CHUNK_ROWS at a time: each conversion holds the GIL, so
    a large flush never stalls the event loop (the hot path) for more than one chunk."""
    batches = []
    for start in range(0, len(rows), CHUNK_ROWS):
        columns = list(zip(*rows[start : start + CHUNK_ROWS], strict=True))
        columns[5] = [round(t * 1_000_000) for t in columns[5]]  # served_at: microseconds
        arrays = [pa.array(c, type=f.type) for c, f in zip(columns, SCHEMA, strict=True)]
        batches.append(pa.RecordBatch.from_arrays(arrays, schema=SCHEMA))
    return pa.Table.from_batches(batches, schema=SCHEMA)


def read(directory: Path, since: date | None = None, until: date | None = None) -> pa.Table:
    """Every logged prediction under `directory` (SCHEMA's columns, by served_at), optionally
    only the days from `since` to `until` inclusive (UTC). A missing folder reads as empty."""
    directory = Path(directory)
    if not directory.is_dir():
        return SCHEMA.empty_table()
    # the schema given, not inferred: a folder without files yet reads as empty too
    dataset = ds.dataset(directory, schema=FILE_SCHEMA, format="parquet", partitioning=PARTITIONING)
    condition = None
    if since is not None:
        condition = ds.field("date") >= since.isoformat()
    if until is not None:
        upper = ds.field("date") <= until.isoformat()
        condition = upper if condition is None else condition & upper
    table = dataset.to_table(columns=SCHEMA.names, filter=condition)
    return table.sort_by("served_at")
