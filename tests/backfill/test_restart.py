"""Reruns replace exactly the partitions of their range; a killed run's debris is harmless.

A killed run can leave (a) partitions it never reached, (b) its private _staging folder,
(c) partitions from before — never half a partition, because each one is renamed into place
with its _SUCCESS marker already inside. The output below is damaged in all those ways by
hand, then the same command is rerun.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from backfill.grid import as_of_dates
from backfill.job import run
from backfill.publish import MARKER
from backfill.spec import FEATURES_MODEL, LABELS_MODEL, contract
from tests.backfill.compare import read_backfill, value_differences
from tests.backfill.conftest import SMALL_GRID, small_request


def _partitions(root: Path, table: str) -> dict[str, str]:
    """as_of_date → run id of the marker (None when the marker is missing)."""
    found = {}
    for folder in sorted((root / table).glob("as_of_date=*")):
        marker = folder / MARKER
        found[folder.name] = json.loads(marker.read_text())["run"] if marker.exists() else None
    return found


def _assert_same_tables(actual: Path, expected: Path) -> None:
    for model in (FEATURES_MODEL, LABELS_MODEL):
        columns = [c.name for c in contract(model)]
        floats = {c.name for c in contract(model) if c.data_type == "double"}
        problems = value_differences(
            read_backfill(expected / model).to_pandas(),
            read_backfill(actual / model).to_pandas(),
            columns,
            floats,
        )
        assert not problems, "\n".join(problems)
        assert set(_partitions(actual, model)) == set(_partitions(expected, model))


def test_rerun_after_a_killed_run_completes_without_duplicates(spark, small_case, tmp_path):
    output = tmp_path / "out"
    shutil.copytree(small_case.reference, output)
    dates = sorted(as_of_dates(SMALL_GRID["start"], SMALL_GRID["end"], SMALL_GRID["every_days"]))
    features = output / FEATURES_MODEL
    # (a) the run died before publishing the newest dates
    for as_of in dates[-3:]:
        shutil.rmtree(features / f"as_of_date={as_of}")
    # (b) its staging folder, with a half-written partition in it
    debris = output / "_staging" / "killed-run" / FEATURES_MODEL / f"as_of_date={dates[-1]}"
    debris.mkdir(parents=True)
    (debris / "part-00000-half.parquet").write_bytes(b"PAR1 truncated")
    # (c) a stale partition without its marker (as an older tool might have left it)
    (features / f"as_of_date={dates[0]}" / MARKER).unlink()

    run(spark, small_request(small_case.raw, output))

    _assert_same_tables(output, small_case.reference)
    assert not (output / "_staging").exists()
    assert all(_partitions(output, FEATURES_MODEL).values()), "every partition has a marker"


def test_rerun_of_a_range_replaces_exactly_its_partitions(spark, small_case, tmp_path):
    output = tmp_path / "out"
    shutil.copytree(small_case.reference, output)
    outsider = output / FEATURES_MODEL / "as_of_date=2020-01-01"
    outsider.mkdir()
    (outsider / "keep.parquet").write_bytes(b"not ours to touch")
    before = _partitions(output, FEATURES_MODEL)

    rerun = {"start": date(2024, 9, 24), "end": date(2024, 10, 22)}  # on the grid
    run(spark, small_request(small_case.raw, output, **rerun))

    after = _partitions(output, FEATURES_MODEL)
    replaced = {f"as_of_date={d}" for d in as_of_dates(rerun["start"], rerun["end"], 14)}
    assert replaced <= set(after) and len(replaced) == 3
    assert {k for k in after if after[k] != before.get(k)} == replaced
    assert (outsider / "keep.parquet").read_bytes() == b"not ours to touch"
    shutil.rmtree(outsider)
    _assert_same_tables(output, small_case.reference)


def test_resume_skips_complete_partitions(spark, small_case, tmp_path):
    output = tmp_path / "out"
    shutil.copytree(small_case.reference, output)
    newest = max(as_of_dates(SMALL_GRID["start"], SMALL_GRID["end"], SMALL_GRID["every_days"]))
    shutil.rmtree(output / FEATURES_MODEL / f"as_of_date={newest}")
    summary = run(spark, small_request(small_case.raw, output, resume=True))
    assert summary.feature_partitions == 1
    assert summary.skipped_complete == len(summary.as_of_dates) - 1
    _assert_same_tables(output, small_case.reference)
