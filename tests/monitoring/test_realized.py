"""Realized quality on the session pipeline: the batch scores of the model's test date, joined
with dbt's labels by `python -m monitoring`, give back the training report's test metrics, for
the model and for both baselines (same rows, same scores); exit codes and the report files."""

from __future__ import annotations

import json
import re

import pytest

from tests.monitoring.conftest import run_monitor

pytestmark = pytest.mark.slow

NO_DRIFT_ALERT = {"MONITOR_PSI_THRESHOLD": "1e9", "MONITOR_MISSING_INCREASE_THRESHOLD": "1"}


@pytest.fixture(scope="module")
def monitored(scored_test_date, tmp_path_factory):
    """One quiet run (drift thresholds out of reach): its exit code and monitor.json."""
    out = tmp_path_factory.mktemp("monitoring")
    with pytest.MonkeyPatch.context() as mp:
        status = run_monitor(mp, {**scored_test_date.env, **NO_DRIFT_ALERT}, out)
    return status, json.loads((out / "monitor.json").read_text()), out


def _test_date(monitored, scored_test_date) -> dict:
    test = scored_test_date.metadata["as_of_range"]["test"]
    (entry,) = [e for e in monitored[1]["realized"]["by_as_of_date"] if e["as_of_date"] == test]
    return entry


def test_the_test_dates_realized_metrics_are_the_training_reports(monitored, scored_test_date):
    entry = _test_date(monitored, scored_test_date)
    trained = scored_test_date.metadata["metrics"]
    model = entry["scores"]["model"]
    assert entry["rows"] == trained["rows"]  # the same customers as the training test set
    assert model["roc_auc"] == pytest.approx(trained["roc_auc"], abs=0.01)
    assert model["pr_auc"] == pytest.approx(trained["pr_auc"], abs=0.01)
    assert model["brier"] == pytest.approx(trained["brier"], abs=0.01)
    assert entry["observed_rate"] == pytest.approx(trained["positive_rate"], abs=1e-9)
    (reference,) = entry["training_test_metrics"].values()
    assert reference["roc_auc"] == trained["roc_auc"]


def test_the_baselines_are_training_s_on_the_same_rows(monitored, scored_test_date):
    entry = _test_date(monitored, scored_test_date)
    baselines = scored_test_date.metrics["baselines"]
    for key in ("recency", "bgnbd"):
        for metric in ("roc_auc", "pr_auc"):
            expected = baselines[key]["test"][metric]
            assert entry["scores"][key][metric] == pytest.approx(expected, abs=1e-6), key
    assert entry["scores"]["bgnbd"]["brier"] == pytest.approx(
        baselines["bgnbd"]["test"]["brier"], abs=1e-6
    )
    assert "brier" not in entry["scores"]["recency"]  # a ranking, not a probability


def test_tiers_weeks_and_reliability_add_up(monitored, scored_test_date):
    entry = _test_date(monitored, scored_test_date)
    assert sum(t["rows"] for t in entry["tiers"]) == entry["rows"]
    assert {t["tier"] for t in entry["tiers"]} <= {"high", "medium", "low"}
    table = entry["scores"]["model"]["reliability"]
    assert len(table) == 10 and sum(b["rows"] for b in table) == entry["rows"]
    (week,) = [w for w in monitored[1]["realized"]["by_week"] if w["iso_week"] == entry["iso_week"]]
    assert week["as_of_dates"] == [entry["as_of_date"]]
    assert week["scores"] == entry["scores"]


def test_the_open_window_is_pending_and_the_quiet_run_exits_0(monitored, warehouse):
    status, report, _ = monitored
    latest = warehouse.query("select max(as_of_date) d from customer_features")["d"][0]
    assert [p["as_of_date"] for p in report["realized"]["pending"]] == [str(latest.date())]
    assert report["drift"] is not None and report["alerts"] == []
    assert report["thresholds"] == {"psi": 1e9, "missing_increase": 1.0}  # what "quiet" meant
    assert status == 0


def test_a_drift_alert_exits_3_and_still_writes_the_report(scored_test_date, monkeypatch, tmp_path):
    env = {**scored_test_date.env, "MONITOR_PSI_THRESHOLD": "0",
           "MONITOR_MISSING_INCREASE_THRESHOLD": "-1"}  # fmt: skip
    assert run_monitor(monkeypatch, env, tmp_path) == 3
    report = json.loads((tmp_path / "monitor.json").read_text())
    assert report["alerts"] and report["alerts"] == report["drift"]["alerts"]
    # the thresholds this run alerted at, for whoever reads the report under other settings
    assert report["thresholds"] == {"psi": 0.0, "missing_increase": -1.0}
    page = (tmp_path / "report.html").read_text()
    assert "Alerts" in page and "An alert: a PSI above 0.0" in page


def test_the_html_report_is_one_self_contained_file(monitored):
    page = (monitored[2] / "report.html").read_text()
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert page.count("<img") == 4  # ROC-AUC and PR-AUC over time, calibration, reliability
    assert not [p for p in monitored[2].iterdir() if p.name not in {"monitor.json", "report.html"}]


def test_nothing_to_monitor_exits_2_saying_what_to_run(
    scored_test_date, monkeypatch, tmp_path, capsys
):
    no_scores = {**scored_test_date.env, "SCORES_DIR": str(tmp_path / "none")}
    assert run_monitor(monkeypatch, no_scores, tmp_path / "a") == 2
    err = capsys.readouterr().err
    assert "no score snapshots" in err and "python -m scoring" in err
    no_labels = {**scored_test_date.env, "FEATURES_DIR": str(tmp_path)}
    assert run_monitor(monkeypatch, no_labels, tmp_path / "b") == 2
    assert "no customer_labels mart" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
