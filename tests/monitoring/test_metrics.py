"""Realized quality on hand-made files: the join, the ISO-week pooling, tiers, pending dates
and the metrics themselves, where every expected number is known in advance."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.paths import PipelinePaths
from monitoring.realized import (
    MonitorError,
    label_column,
    realized_quality,
    reliability_table,
    score_metrics,
)
from scoring.schema import SCHEMA
from scoring.score_all import snapshot_path
from tests.monitoring.conftest import run_monitor

MONDAY, WEDNESDAY, NEXT_MONDAY = date(2025, 12, 1), date(2025, 12, 3), date(2025, 12, 8)


def _snapshot(scores_dir, day, probability, tier):
    n = len(probability)
    columns = {
        "customer_id": [f"c{i}" for i in range(n)], "as_of_date": [day] * n,
        "model_version": ["v1"] * n, "probability": probability, "tier": tier,
        "will_repeat": [p >= 0.5 for p in probability], "action": ["-"] * n,
        "scored_at": [datetime(2026, 1, 1, tzinfo=UTC)] * n,
    }  # fmt: skip
    table = pa.table({f.name: columns.get(f.name, [None] * n) for f in SCHEMA}, schema=SCHEMA)
    path = snapshot_path(scores_dir, day)
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)


def _marts(features_dir, labels: dict[date, list[int]]):
    rows = [(f"c{i}", day, y) for day, ys in labels.items() for i, y in enumerate(ys)]
    ids, days, ys = zip(*rows, strict=True)
    pq.write_table(
        pa.table({"customer_id": ids, "as_of_date": days,
                  "event_timestamp": [datetime(d.year, d.month, d.day, 23, 59, 59) for d in days],
                  "repeat_30d": pa.array(ys, pa.int64()),
                  "label_window_days": pa.array([30] * len(ys), pa.int64())}),
        features_dir / "customer_labels.parquet",
    )  # fmt: skip
    # recency: customer i last ordered i days ago, so low ids rank first
    pq.write_table(
        pa.table({"customer_id": ids, "as_of_date": days,
                  "recency_days": [int(i[1:]) for i in ids], "tenure_days": [400] * len(ids),
                  "purchase_days": [3] * len(ids)}),
        features_dir / "customer_features.parquet",
    )  # fmt: skip


@pytest.fixture
def paths(tmp_path) -> PipelinePaths:
    paths = PipelinePaths(
        features_dir=tmp_path / "features", scores_dir=tmp_path / "scores",
        models_dir=tmp_path / "models",
    )  # fmt: skip
    paths.features_dir.mkdir()
    tiers = ["high", "high", "medium", "low"]
    _snapshot(paths.scores_dir, MONDAY, [0.9, 0.8, 0.3, 0.1], tiers)  # ranks perfectly
    _snapshot(paths.scores_dir, WEDNESDAY, [0.1, 0.3, 0.8, 0.9], tiers)  # ranks backwards
    _snapshot(paths.scores_dir, NEXT_MONDAY, [0.5] * 4, tiers)  # its window is still open
    _marts(paths.features_dir, {MONDAY: [1, 1, 0, 0], WEDNESDAY: [1, 1, 0, 0]})
    return paths


def test_dates_weeks_tiers_and_pending(paths):
    realized = realized_quality(paths, bins=10, progress=False)
    monday, wednesday = realized.by_as_of_date
    assert monday["scores"]["model"]["roc_auc"] == 1.0
    assert wednesday["scores"]["model"]["roc_auc"] == 0.0
    # the recency baseline: customers 0 and 1 are the most recent, and the buyers
    assert monday["scores"]["recency"]["roc_auc"] == wednesday["scores"]["recency"]["roc_auc"] == 1
    assert "bgnbd" not in monday["scores"]  # no model folder with BG/NBD parameters: noted
    assert any("BG/NBD left out" in n for n in realized.notes)
    (week,) = realized.by_week
    assert week["iso_week"] == "2025-W49" and week["rows"] == 8
    assert week["as_of_dates"] == ["2025-12-01", "2025-12-03"]
    assert week["scores"]["model"]["roc_auc"] == pytest.approx(0.5)  # 1.0 and 0.0 pooled
    high = next(t for t in monday["tiers"] if t["tier"] == "high")
    assert high["rows"] == 2 and high["observed_rate"] == 1.0
    assert high["scores"]["model"]["roc_auc"] is None  # one class only: not a number
    assert [p["as_of_date"] for p in realized.pending] == ["2025-12-08"]
    assert realized.window_days == 30 and monday["label_window_closed_on"] == "2025-12-31"


def test_no_labels_or_no_snapshots_is_nothing_to_monitor(paths, tmp_path):
    (paths.features_dir / "customer_labels.parquet").unlink()
    with pytest.raises(MonitorError, match="no customer_labels mart"):
        realized_quality(paths, progress=False)
    empty = PipelinePaths(features_dir=paths.features_dir, scores_dir=tmp_path / "nothing")
    with pytest.raises(MonitorError, match="no score snapshots"):
        realized_quality(empty, progress=False)


def test_the_label_is_the_contracts():
    assert label_column() == "repeat_30d"


def test_reliability_bins_cover_zero_to_one():
    y = np.array([0, 1, 1, 1])
    p = np.array([0.0, 0.15, 0.95, 1.0])
    table = reliability_table(y, p, bins=10)
    assert [b["rows"] for b in table] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert table[9]["mean_predicted"] == pytest.approx(0.975)
    assert table[2]["observed_rate"] is None


def test_a_calibrated_probability_has_no_calibration_error():
    y = np.array([0, 1] * 50)
    metrics = score_metrics(y, np.full(100, 0.5), probability=True, bins=10)
    assert metrics["calibration_error"] == pytest.approx(0.0)
    assert metrics["brier"] == pytest.approx(0.25)
    assert metrics["mean_predicted"] == metrics["observed_rate"] == 0.5
    overconfident = score_metrics(y, np.full(100, 0.9), probability=True, bins=10)
    assert overconfident["calibration_error"] == pytest.approx(0.4)


def test_without_a_model_the_command_reports_realized_quality_alone(
    paths, monkeypatch, tmp_path, capsys
):
    env = {"FEATURES_DIR": str(paths.features_dir), "SCORES_DIR": str(paths.scores_dir),
           "MODELS_DIR": str(paths.models_dir)}  # fmt: skip
    assert run_monitor(monkeypatch, env, tmp_path / "out") == 0
    report = json.loads((tmp_path / "out" / "monitor.json").read_text())
    assert report["drift"] is None and "no promoted model" in report["drift_not_checked"]
    assert len(report["realized"]["by_as_of_date"]) == 2
    assert "drift: not checked" in capsys.readouterr().out


def test_no_closed_window_and_no_drift_check_is_nothing_to_monitor(
    paths, monkeypatch, tmp_path, capsys
):
    (paths.features_dir / "customer_labels.parquet").unlink()
    _marts(paths.features_dir, {date(2025, 11, 1): [1, 0]})  # labels of other dates only
    env = {"FEATURES_DIR": str(paths.features_dir), "SCORES_DIR": str(paths.scores_dir),
           "MODELS_DIR": str(paths.models_dir)}  # fmt: skip
    assert run_monitor(monkeypatch, env, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "nothing to monitor" in err and "2025-12-01, 2025-12-03, 2025-12-08" in err
    assert not (tmp_path / "out").exists()
