"""The serve log (api/serve_log.py): every answered prediction is kept, the hot path never
waits on it, and a full queue or an unwritable folder is counted, never an error to a client.

Each app here writes its own temporary folder and flushes only at shutdown (a flush interval
of an hour), so what a test reads afterwards is exactly what the shutdown wrote.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.serve_log import SCHEMA, ServeLog, read
from tests.api.test_server import _start, _workers

WHAT_IF = {"recency_days": 3, "orders_count": 12}


class Warnings(logging.Handler):
    """The api.serve_log logger's warnings (the api loggers do not propagate to caplog)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture()
def warnings():
    handler, logger = Warnings(), logging.getLogger("api.serve_log")
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def _settings(api_settings, directory: Path, **update):
    return api_settings.model_copy(
        update={"serve_log_dir": directory, "serve_log_flush_seconds": 3600, **update}
    )


def _as_of(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_every_answered_prediction_is_logged_with_its_fields(api_settings, known_ids, tmp_path):
    directory = tmp_path / "serve_log"
    started = datetime.now(UTC)
    with TestClient(create_app(_settings(api_settings, directory))) as client:
        by_id = [
            client.get(f"/customers/{known_ids[0]}/prediction").json(),
            client.post("/predict", json={"customer_id": known_ids[1]}).json(),
        ]
        assert client.get("/customers/NOT-A-CUSTOMER/prediction").status_code == 404
        ids = [*known_ids[2:12], "NOT-A-CUSTOMER", "NULL", f"  {known_ids[2]}"]
        batch = client.post("/predict/batch", json={"customer_ids": ids}).json()
        what_if = client.post("/predict/features", json=WHAT_IF).json()
        status = client.get("/health/serve-log").json()
        assert (status["queued_rows"], status["written_rows"]) == (13, 0)  # not yet: at shutdown
    ended = datetime.now(UTC)

    rows = read(directory).to_pylist()
    assert Counter(r["endpoint"] for r in rows) == {"by_id": 2, "batch": 10, "what_if": 1}
    answers = {("by_id", p["customer_id"]): p for p in by_id}
    answers |= {
        ("batch", i["customer_id"]): i["prediction"] for i in batch["items"] if i["prediction"]
    }
    for row in rows:
        assert started <= row["served_at"] <= ended
        if row["endpoint"] == "what_if":
            assert row["customer_id"] is None and row["features_as_of"] is None
            answer = what_if
        else:
            answer = answers[(row["endpoint"], row["customer_id"])]
            assert row["features_as_of"] == _as_of(answer["features_as_of"])
        assert row["model_version"] == answer["model_version"]
        assert row["probability"] == answer["probability"]
        assert row["tier"] == answer["tier"]
    (day,) = directory.iterdir()
    assert day.name == f"date={ended.date().isoformat()}"
    (file,) = day.iterdir()  # one flush, one file, named for this process
    assert file.name.startswith(f"part-{os.getpid()}-") and file.suffix == ".parquet"


def test_a_full_queue_drops_and_counts_while_the_api_answers(
    api_settings, known_ids, tmp_path, warnings
):
    directory = tmp_path / "serve_log"
    with TestClient(create_app(_settings(api_settings, directory, serve_log_queue_rows=5))) as c:
        codes = [c.get(f"/customers/{i}/prediction").status_code for i in known_ids[:40]]
        codes.append(c.post("/predict/batch", json={"customer_ids": known_ids[:20]}).status_code)
        status = c.get("/health/serve-log").json()
    assert codes == [200] * 41
    assert (status["queued_rows"], status["dropped_rows"]) == (5, 35 + 20)
    assert len(read(directory)) == 5  # what fitted is kept
    assert len(warnings) == 1 and "queue full" in warnings[0]  # once per 1,000 drops


def test_drops_are_logged_once_per_n(tmp_path, warnings):
    serve_log = ServeLog(tmp_path, queue_rows=1, flush_seconds=3600, flush_rows=10, log_every=10)
    one = {"customer_id": "C1", "model_version": "v", "probability": 0.5, "tier": "low"}
    for _ in range(26):
        serve_log.record("by_id", [one])
    assert serve_log.dropped_rows == 25
    assert [m.split(": ")[1].split()[0] for m in warnings] == ["1", "10", "20"]


def test_an_unwritable_folder_does_not_break_serving(api_settings, known_ids, tmp_path, warnings):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # unwritable even for root: mkdir under it fails
    settings = _settings(api_settings, blocker / "serve_log", serve_log_flush_seconds=0.05)
    with TestClient(create_app(settings)) as client:
        for customer_id in known_ids[:5]:
            assert client.get(f"/customers/{customer_id}/prediction").status_code == 200
        deadline = time.monotonic() + 20
        while (status := client.get("/health/serve-log").json())["failed_rows"] < 5:
            assert time.monotonic() < deadline, status
            time.sleep(0.05)
        assert client.post("/predict/features", json=WHAT_IF).status_code == 200
        assert client.get("/health").status_code == 200
    assert status["written_rows"] == 0 and status["failed_writes"] >= 1
    assert status["last_error"] == "NotADirectoryError"
    assert warnings and "not written" in warnings[0]


def test_off_means_nothing_is_kept(api_settings, known_ids, tmp_path):
    directory = tmp_path / "serve_log"
    settings = _settings(api_settings, directory, serve_log_enabled=False)
    with TestClient(create_app(settings)) as client:
        assert client.get(f"/customers/{known_ids[0]}/prediction").status_code == 200
        assert client.get("/health/serve-log").json()["enabled"] is False
    assert not directory.exists()


def test_one_file_per_day_and_read_by_day(tmp_path):
    """A flush that spans midnight writes one file per day; read() selects days."""
    serve_log = ServeLog(tmp_path, queue_rows=10, flush_seconds=3600, flush_rows=10)
    before, after = (
        datetime(2026, 11, 24, 23, 59, 59, tzinfo=UTC),
        datetime(2026, 11, 25, tzinfo=UTC),
    )
    serve_log._write(
        [("C1", None, "v", 0.1, "low", before.timestamp(), "by_id"),
         ("C2", None, "v", 0.9, "high", after.timestamp(), "batch")]
    )  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["date=2026-11-24", "date=2026-11-25"]
    assert read(tmp_path)["customer_id"].to_pylist() == ["C1", "C2"]
    assert read(tmp_path, since=date(2026, 11, 25))["served_at"].to_pylist() == [after]
    assert read(tmp_path, until=date(2026, 11, 24))["customer_id"].to_pylist() == ["C1"]
    assert read(tmp_path / "missing").num_rows == 0


def test_a_folder_without_files_yet_reads_as_empty(tmp_path):
    (tmp_path / "date=2026-11-25").mkdir()  # e.g. created by a writer that failed since
    assert read(tmp_path).num_rows == 0
    assert read(tmp_path).schema == SCHEMA


@pytest.mark.slow
def test_sigterm_on_a_live_two_worker_server_loses_nothing(
    trained_models, feature_store, known_ids, tmp_path
):
    """`python -m api` with 2 workers, each writing its own files; SIGTERM to the parent
    stops them gracefully, and every answered prediction is in the log afterwards."""
    directory = tmp_path / "serve_log"
    server, port = _start(  # nothing is written before the shutdown: a flush an hour
        trained_models, feature_store, tmp_path, serve_log_dir=str(directory),
        serve_log_flush_seconds="3600",
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        pids = {w.pid for w in _workers(server)}
        for customer_id in known_ids[:30]:  # a fresh connection each: both workers answer
            assert httpx.get(f"{base_url}/customers/{customer_id}/prediction").status_code == 200
        batch = httpx.post(f"{base_url}/predict/batch", json={"customer_ids": known_ids[:10]})
        assert batch.status_code == 200
        assert httpx.post(f"{base_url}/predict/features", json=WHAT_IF).status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        returncode = server.wait(timeout=60)
    assert returncode == 0
    rows = read(directory)
    assert Counter(rows["endpoint"].to_pylist()) == {"by_id": 30, "batch": 10, "what_if": 1}
    writers = {int(p.name.split("-")[1]) for p in directory.glob("date=*/part-*.parquet")}
    assert writers == pids  # each worker its own files
