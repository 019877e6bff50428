"""The raw-files sensor: one run per change of RAW_DIR, none while nothing changes or while a
file is still being written."""

from __future__ import annotations

import os
import time

import pytest
from dagster import RunRequest, SkipReason, build_sensor_context, define_asset_job

from orchestration.raw_sensor import SETTLE_SECONDS, raw_files_sensor

SENSOR = raw_files_sensor(define_asset_job("pipeline"))


def _age(path, seconds: float = SETTLE_SECONDS + 5) -> None:
    """Back-date a file, as if written a while ago (the sensor waits for quiet files)."""
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.fixture
def raw_dir(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    raw.mkdir()
    monkeypatch.setenv("RAW_DIR", str(raw))
    return raw


def _tick(cursor: str | None):
    """One evaluation from `cursor`: (its results, the cursor after it)."""
    context = build_sensor_context(cursor=cursor)
    results = list(SENSOR.evaluate_tick(context).run_requests or [])
    return results, context.cursor


def test_a_new_file_starts_one_run_and_no_more_without_change(raw_dir):
    runs, cursor = _tick(None)  # first look: records the folder, starts nothing
    assert runs == []
    (raw_dir / "transactions.parquet").write_bytes(b"PAR1 one")
    _age(raw_dir / "transactions.parquet")
    runs, cursor = _tick(cursor)
    assert len(runs) == 1 and isinstance(runs[0], RunRequest)
    assert runs[0].tags["raw_files_changed"] == "transactions.parquet"
    runs, cursor = _tick(cursor)
    assert runs == []
    runs, _ = _tick(cursor)
    assert runs == []


def test_a_changed_file_starts_a_run_and_hidden_files_do_not(raw_dir):
    data = raw_dir / "transactions.parquet"
    data.write_bytes(b"PAR1 one")
    _age(data, 600)
    _, cursor = _tick(None)
    (raw_dir / ".sample-args").write_text("2000 7")
    assert _tick(cursor)[0] == []
    data.write_bytes(b"PAR1 two, longer")
    _age(data)
    runs, cursor = _tick(cursor)
    assert len(runs) == 1
    data.unlink()
    runs, _ = _tick(cursor)
    assert len(runs) == 1  # a file gone is a change too


def test_a_file_still_being_written_waits(raw_dir):
    _, cursor = _tick(None)
    (raw_dir / "transactions.parquet").write_bytes(b"PAR1 partial")  # modified just now
    context = build_sensor_context(cursor=cursor)
    result = SENSOR.evaluate_tick(context)
    assert not result.run_requests
    assert context.cursor == cursor  # not recorded: the next tick looks again
    _age(raw_dir / "transactions.parquet")
    assert len(_tick(cursor)[0]) == 1


def test_skip_reasons_say_why(raw_dir):
    context = build_sensor_context(cursor=None)
    result = SENSOR(context)
    assert isinstance(result, SkipReason)
    assert str(raw_dir) in result.skip_message
