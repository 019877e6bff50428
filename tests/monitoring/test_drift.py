"""Drift on real pipelines: a generated log whose category mix changes after the model's test
date alerts and names the moved features and the scores; the same log without the change
stays quiet.

Both samples (3,000 customers, seed 21) are generated, built by dbt on the session model's own
as-of dates (its first and last training date, its test date, the latest date) and scored by the
real `python -m scoring` with the session's model (tests/conftest.py) on the test date and the
latest date. `--shift mix:groceries` from the day after the test date: the customers who
prefer groceries (30 %) all arrive in the last 30 days instead of across three years.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ingest.paths import PipelinePaths
from monitoring.drift import DriftError, DriftSettings, check_drift
from tests.conftest import BIN, Warehouse, build_warehouse, run
from tests.scoring.conftest import run_scoring

CUSTOMERS = 3_000
SEED = 21
LATEST = "2025-12-31"  # the generator's default end date: the mart's latest as-of date
SHIFT = ("--shift-from", "2025-12-02", "--shift", "mix:groceries")


def pipeline(root: Path, models_dir: Path, metadata: dict, *flags: str) -> PipelinePaths:
    raw = root / "raw"
    run(
        [str(BIN / "python"), "-m", "ingest.generate", "--customers", str(CUSTOMERS),
         "--seed", str(SEED), "--out", str(raw), "--as-of-count", "1", "--no-progress", *flags]
    )  # fmt: skip
    dates = sorted({*metadata["as_of_range"]["train"], metadata["as_of_range"]["test"], LATEST})
    warehouse: Warehouse = build_warehouse(raw, root, "--vars", json.dumps({"as_of_dates": dates}))
    paths = PipelinePaths(features_dir=warehouse.features_dir, scores_dir=root / "scores")
    env = {
        "FEATURES_DIR": str(paths.features_dir),
        "MODELS_DIR": str(models_dir),
        "SCORES_DIR": str(paths.scores_dir),
    }
    for args in (["--as-of", metadata["as_of_range"]["test"]], []):  # the test date, the latest
        scored = run_scoring(env, "--workers", "1", *args)
        assert scored.returncode == 0, scored.stderr
    return paths


@pytest.fixture(scope="module")
def metadata(trained_models) -> dict:
    """The session model's metadata: its feature list, training window and test date."""
    return json.loads((trained_models / "current" / "metadata.json").read_text())


@pytest.fixture(scope="module")
def unchanged(tmp_path_factory, trained_models, metadata) -> PipelinePaths:
    return pipeline(tmp_path_factory.mktemp("drift-unchanged"), trained_models, metadata)


@pytest.fixture(scope="module")
def shifted(tmp_path_factory, trained_models, metadata) -> PipelinePaths:
    return pipeline(tmp_path_factory.mktemp("drift-shifted"), trained_models, metadata, *SHIFT)


def alerted(result) -> set[str]:
    return {entry["feature"] for entry in result.features if entry["alert"]}


def test_a_new_category_mix_alerts_and_names_the_moved_features(shifted, metadata):
    result = check_drift(shifted, metadata, DriftSettings())
    psi = {entry["feature"]: entry["psi"] for entry in result.features}

    assert psi["favourite_category"] > 0.5, psi
    assert {"favourite_category", "tenure_days"} <= alerted(result)
    # new customers have one order: no gap between orders yet
    assert "mean_gap_days" in alerted(result)
    assert any(a.startswith("favourite_category: PSI") for a in result.alerts)
    assert any(a.startswith("mean_gap_days: missing") for a in result.alerts)
    # what did not move stays quiet: the customers' own demographics are drawn as before
    assert not {"age", "gender", "location"} & alerted(result)
    # the session model scores the new customers differently: a score PSI of about 0.16, under
    # the default 0.2 but an alert at the 0.1 "watch" level (the unchanged log stays quiet there)
    watch = check_drift(shifted, metadata, DriftSettings(psi_threshold=0.1))
    assert watch.score["alert"], watch.score
    test_date = metadata["as_of_range"]["test"]
    assert (
        f"score: PSI {watch.score['psi']:.3f} > 0.1 (scores of {LATEST} vs {test_date})"
        in watch.alerts
    ), watch.alerts


def test_without_the_shift_drift_stays_quiet(unchanged, metadata):
    result = check_drift(unchanged, metadata, DriftSettings())

    assert result.alerts == []
    assert result.reference == [metadata["as_of_range"]["train"][1]] * 2
    assert result.latest == LATEST
    assert result.reference_rows > 0 and result.latest_rows > result.reference_rows
    assert max(e["psi"] for e in result.features if e["psi"] is not None) < 0.1
    assert result.score["psi"] < 0.05, result.score
    # the 0.1 "watch" level the shifted log's scores alert at stays quiet here
    assert check_drift(unchanged, metadata, DriftSettings(psi_threshold=0.1)).alerts == []
    # the model's whole feature list, the calendar ones without a PSI (one value per date)
    assert [e["feature"] for e in result.features] == [f["name"] for f in metadata["features"]]
    per_date = {e["feature"] for e in result.features if e["psi"] is None}
    assert per_date == {"as_of_month", "as_of_day_of_week", "days_to_next_holiday",
                        "is_festival_season"}  # fmt: skip


def test_thresholds_are_settings(unchanged, metadata, monkeypatch):
    monkeypatch.setenv("MONITOR_PSI_THRESHOLD", "0.0")
    monkeypatch.setenv("MONITOR_MISSING_INCREASE_THRESHOLD", "-1")
    result = check_drift(unchanged, metadata, DriftSettings())

    assert alerted(result) == {f["name"] for f in metadata["features"]}
    assert result.score["alert"]
    assert any(a.startswith("score: PSI") for a in result.alerts)


def test_the_pooled_window_is_the_other_reference(unchanged, metadata):
    last = check_drift(unchanged, metadata, DriftSettings())
    pooled = check_drift(unchanged, metadata, DriftSettings(reference="train_window"))

    assert pooled.reference == metadata["as_of_range"]["train"]
    assert pooled.reference_rows > last.reference_rows


def test_scores_need_the_test_date_scored_by_this_model(unchanged, metadata, tmp_path):
    other_model = {**metadata, "version": "another-model"}
    result = check_drift(unchanged, other_model, DriftSettings())
    assert result.score["psi"] is None and "not by this model" in result.score["reason"]

    unscored = {**metadata, "as_of_range": {**metadata["as_of_range"], "test": "2025-11-01"}}
    result = check_drift(unchanged, unscored, DriftSettings())
    assert "python -m scoring --as-of 2025-11-01" in result.score["reason"]

    nothing = PipelinePaths(features_dir=unchanged.features_dir, scores_dir=tmp_path)
    assert check_drift(nothing, metadata, DriftSettings()).score["reason"].startswith("no score")


def test_a_training_window_outside_the_mart_is_an_error(unchanged, metadata):
    elsewhere = {**metadata, "as_of_range": {"train": ["2020-01-01", "2020-02-01"], "test": LATEST}}
    with pytest.raises(DriftError, match="no rows from 2020-02-01"):
        check_drift(unchanged, elsewhere, DriftSettings())


def test_a_backfill_partitioned_mart_gives_the_same_drift(unchanged, metadata, tmp_path):
    """`python -m backfill` writes customer_features/as_of_date=…/ folders, not dbt's one file:
    drift reads them through the same mart reader as realized quality."""
    folder = tmp_path / "features" / "customer_features"
    folder.parent.mkdir()
    single = unchanged.features_dir / "customer_features.parquet"
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{single}')) TO '{folder}' "
            "(FORMAT parquet, PARTITION_BY (as_of_date))"
        )
    partitioned = PipelinePaths(features_dir=folder.parent, scores_dir=unchanged.scores_dir)
    dbt, backfill = (check_drift(p, metadata, DriftSettings()) for p in (unchanged, partitioned))

    assert (backfill.latest, backfill.reference_rows) == (dbt.latest, dbt.reference_rows)
    assert backfill.latest_rows == dbt.latest_rows and backfill.alerts == dbt.alerts
    for ours, theirs in zip(backfill.features, dbt.features, strict=True):
        psi = theirs["psi"]
        assert ours == {**theirs, "psi": None if psi is None else pytest.approx(psi)}


def test_no_features_mart_is_an_error_saying_what_to_build(metadata, tmp_path):
    nothing = PipelinePaths(features_dir=tmp_path, scores_dir=tmp_path)
    with pytest.raises(DriftError, match=r"no customer_features mart in .*\(make features\)"):
        check_drift(nothing, metadata, DriftSettings())
