"""A `dbt build` killed half way through writing a mart: Feast never sees half a Parquet file,
and the next build completes with whole marts.

The kill point is made exact, not left to timing: `tmp_customer_features.parquet` (where
DuckDB's COPY writes before renaming into place, see dbt_project/macros/write_to_file.sql) is
made a named pipe before the build. The build's write blocks on it until the test reads the
first bytes of the Parquet stream ("PAR1"), so at the moment of the SIGKILL the mart is
provably being written. What a real kill leaves behind, a truncated temporary file, is then
put in the pipe's place for the next build to cope with.

If the marts were written in place, the build would never touch the pipe and the test fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from feature_repo.definitions import features_path
from tests.conftest import BIN, REPO_ROOT, Warehouse

pytestmark = pytest.mark.slow

MARTS = ("customer_features", "customer_labels", "segment_repeat_rates")
PARQUET_MAGIC = b"PAR1"


def _copy_warehouse(warehouse: Warehouse, root: Path, with_marts: bool) -> Warehouse:
    """The session's built warehouse, copied so it can be damaged; optionally without the
    marts' files, as before the very first build."""
    root.mkdir()
    features = root / "features"
    features.mkdir()
    shutil.copy(warehouse.duckdb_path, root / "warehouse.duckdb")
    if with_marts:
        for mart in MARTS:
            shutil.copy(warehouse.features_dir / f"{mart}.parquet", features)
    return Warehouse(warehouse.raw_dir, root / "warehouse.duckdb", features, root / "target")


def _dbt_build(copy: Warehouse, output: Path) -> subprocess.Popen:
    with output.open("wb") as out:  # a file, not a pipe nobody reads while dbt runs
        return subprocess.Popen(
            [str(BIN / "dbt"), "build", "--target-path", str(copy.target_dir),
             "--log-path", str(copy.target_dir / "logs")],
            cwd=REPO_ROOT, env={**os.environ, **copy.env}, start_new_session=True,
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _kill_while_writing(copy: Warehouse, mart: str, timeout: float = 240) -> bytes:
    """Run `dbt build`, SIGKILL it while `mart` is being written; returns the bytes written
    so far (what a killed build leaves in the temporary file)."""
    pipe = copy.features_dir / f"tmp_{mart}.parquet"
    os.mkfifo(pipe)
    # non-blocking read end: the writer's open() succeeds at once, then blocks on a full pipe
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
    output = copy.features_dir.parent / "killed_build.log"
    build = _dbt_build(copy, output)
    received = b""
    try:
        deadline = time.monotonic() + timeout
        while len(received) < len(PARQUET_MAGIC):
            if build.poll() is not None:
                raise AssertionError(
                    f"dbt build exited {build.returncode} without writing {mart} through "
                    f"{pipe.name}: the mart is written in place\n"
                    f"{output.read_text(errors='replace')[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{mart} was not written within {timeout} s")
            # BlockingIOError: the writer has the pipe open, nothing written yet
            with contextlib.suppress(BlockingIOError):
                received += os.read(reader, 4096)
            time.sleep(0.005)
        assert received.startswith(PARQUET_MAGIC)
        os.killpg(build.pid, signal.SIGKILL)  # mid-write: the rest is stuck in the pipe
        build.wait(timeout=30)
        assert build.returncode == -signal.SIGKILL
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
            build.wait(timeout=30)
        os.close(reader)
    # the rename into place had not happened when the process died
    assert pipe.exists() and not pipe.is_file()
    pipe.unlink()
    pipe.write_bytes(received)  # what a real kill leaves: a truncated Parquet file
    return received


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_sorted(path: Path) -> pd.DataFrame:
    frame = pq.read_table(path).to_pandas()  # raises on a truncated or corrupt file
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def _assert_marts_whole(copy: Warehouse, reference: Warehouse) -> None:
    """Every mart file reads completely and equals the uninterrupted build of the same log;
    what Feast reads is that file; no temporary file is left."""
    assert features_path(copy.features_dir) == str(copy.features_dir / f"{MARTS[0]}.parquet")
    for mart in MARTS:
        got = _read_sorted(copy.features_dir / f"{mart}.parquet")
        expected = _read_sorted(reference.features_dir / f"{mart}.parquet")
        assert len(got) > 0
        pd.testing.assert_frame_equal(got, expected)
    assert sorted(p.name for p in copy.features_dir.iterdir()) == [f"{m}.parquet" for m in MARTS]


def test_killed_rebuild_keeps_the_previous_marts_and_the_next_build_completes(warehouse, tmp_path):
    copy = _copy_warehouse(warehouse, tmp_path / "wh", with_marts=True)
    before = {m: _sha256(copy.features_dir / f"{m}.parquet") for m in MARTS}

    partial = _kill_while_writing(copy, "customer_features")

    # the previous good file is untouched, byte for byte, and reads completely
    assert _sha256(copy.features_dir / "customer_features.parquet") == before["customer_features"]
    assert len(partial) < (copy.features_dir / "customer_features.parquet").stat().st_size
    for mart in MARTS:  # labels may or may not have been rewritten: whole either way
        _read_sorted(copy.features_dir / f"{mart}.parquet")
    with pytest.raises(Exception):  # noqa: B017 - the leftover really is half a file
        pq.read_table(copy.features_dir / "tmp_customer_features.parquet")

    copy.dbt("build")  # raises with dbt's output if it does not complete
    _assert_marts_whole(copy, warehouse)


def test_killed_first_build_leaves_no_half_written_mart(warehouse, tmp_path):
    copy = _copy_warehouse(warehouse, tmp_path / "wh", with_marts=False)

    _kill_while_writing(copy, "customer_features")

    # nothing at the path Feast reads: an error for a reader, never half of the rows
    assert not (copy.features_dir / "customer_features.parquet").exists()

    copy.dbt("build")
    _assert_marts_whole(copy, warehouse)
