"""A sensor that starts the pipeline when the raw log changes: a file in RAW_DIR
(`pipeline_paths().raw_dir`) is new, changed (size or modification time) or gone.

The cursor is what the sensor saw last: {file name: [mtime_ns, size]} of the folder's visible
files (top level: `ingest.generate` / `ingest.load` write transactions.parquet, customers.parquet
and the sample's ground truth there). The first evaluation only records the folder: the
sensor watches for changes from when it is turned on, and the daily schedule covers the data
already there. A file modified less than SETTLE_SECONDS ago may still be being written: the
sensor waits for the folder to be quiet, so one copy of a large log starts one run, not many.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from dagster import (
    DefaultSensorStatus,
    JobDefinition,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from ingest.paths import pipeline_paths

SETTLE_SECONDS = 30
MINIMUM_INTERVAL_SECONDS = 60


def raw_files(raw_dir: Path) -> dict[str, list[int]]:
    """{name: [mtime_ns, size]} of the folder's visible files; {} when it does not exist."""
    if not raw_dir.is_dir():
        return {}
    seen = {}
    for path in sorted(raw_dir.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            stat = path.stat()
            seen[path.name] = [stat.st_mtime_ns, stat.st_size]
    return seen


def _changes(before: dict[str, list[int]], now: dict[str, list[int]]) -> list[str]:
    return sorted(name for name in before.keys() | now.keys() if before.get(name) != now.get(name))


def raw_files_sensor(job: JobDefinition) -> SensorDefinition:
    @sensor(
        job=job,
        minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING,
        description="Runs the pipeline when a file in RAW_DIR is added, changed or removed.",
    )
    def raw_files_changed(context: SensorEvaluationContext):
        raw_dir = pipeline_paths().raw_dir
        now = raw_files(raw_dir)
        if context.cursor is None:
            context.update_cursor(json.dumps(now))
            return SkipReason(f"watching {len(now)} file(s) in {raw_dir}")
        changed = _changes(json.loads(context.cursor), now)
        if not changed:
            return SkipReason(f"no change in {raw_dir}")
        newest = max((mtime for mtime, _ in now.values()), default=0)
        if time.time_ns() - newest < SETTLE_SECONDS * 1_000_000_000:
            return SkipReason(f"{', '.join(changed)} changed in the last {SETTLE_SECONDS} s")
        context.update_cursor(json.dumps(now))
        run_key = hashlib.sha256(json.dumps(now, sort_keys=True).encode()).hexdigest()[:16]
        return RunRequest(run_key=run_key, tags={"raw_files_changed": ",".join(changed)[:200]})

    return raw_files_changed
