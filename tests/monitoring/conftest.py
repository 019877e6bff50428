"""The suite's session pipeline (tests/conftest.py: sample → dbt → Feast → XGBoost) scored by
the real `python -m scoring` on the model's test date (its label window closed) and on the
latest date (still open), into a temporary SCORES_DIR that monitoring then reads; and
sample_report, a report written by monitoring.report from made-up scores, for the report page's
own tests (no pipeline needed)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.scoring.conftest import run_scoring


@dataclass
class Scored:
    env: dict[str, str]  # FEATURES_DIR, MODELS_DIR, SCORES_DIR for the commands
    metadata: dict  # the session model's metadata.json
    metrics: dict  # and its metrics.json


@pytest.fixture(scope="session")
def scored_test_date(warehouse, trained_models, tmp_path_factory) -> Scored:
    current = trained_models / "current"
    metadata = json.loads((current / "metadata.json").read_text())
    env = {
        "FEATURES_DIR": str(warehouse.features_dir),
        "MODELS_DIR": str(trained_models),
        "SCORES_DIR": str(tmp_path_factory.mktemp("monitored_scores")),
    }
    for args in (["--as-of", metadata["as_of_range"]["test"]], []):  # test date, then latest
        run = run_scoring(env, "--workers", "1", *args)
        assert run.returncode == 0, run.stderr
    return Scored(env, metadata, json.loads((current / "metrics.json").read_text()))


def run_monitor(monkeypatch, env: dict[str, str], out: Path, *args: str) -> int:
    """`python -m monitoring` in this process with the pipeline folders of `env`."""
    from monitoring.__main__ import main

    for name, value in {**env, "MONITORING_DIR": str(out)}.items():
        monkeypatch.setenv(name, value)
    return main(["--no-progress", *args])


# ---- a report without the pipeline ----------------------------------------------------------

SAMPLE_VERSION = "20251130T120000Z-xgb"
SAMPLE_METADATA = {
    "version": SAMPLE_VERSION,
    "as_of_range": {"train": ["2025-06-01", "2025-10-31"], "test": "2025-12-01"},
    "metrics": {"roc_auc": 0.86, "pr_auc": 0.71, "brier": 0.15, "rows": 900},
    "label_window_days": 30,
}
SAMPLE_FEATURES = (
    "recency_days", "tenure_days", "orders_count", "purchase_days", "favourite_category",
    "avg_order_value_90d", "share_of_festival_season_orders_365d", "is_festival_season",
)  # fmt: skip


def sample_report(
    tmp_path: Path,
    *,
    window_days: int | None = 30,
    metadata: dict | None = SAMPLE_METADATA,
    closed: bool = True,
) -> tuple[dict, Path]:
    """monitor.json and report.html as `python -m monitoring` writes them (monitoring.report's
    build_report and write_report over realized.evaluate), from made-up scores of three as-of
    dates in two ISO weeks, one still pending date, and a drift check with alerts: every table
    and plot of the page, in a second, without the session pipeline. `closed=False`: no label
    window has closed yet (no realized section, only the pending date and drift)."""
    import numpy as np

    from ingest.paths import PipelinePaths
    from monitoring.drift import DriftResult
    from monitoring.realized import Realized, Rows, evaluate, iso_week
    from monitoring.report import build_report, write_report

    rng = np.random.default_rng(7)
    days = [date(2025, 12, 1), date(2025, 12, 3), date(2025, 12, 8)] if closed else []
    realized = Realized(window_days)
    parts = []
    for day in days:
        truth = rng.beta(2, 3, 300)
        y = (rng.random(300) < truth).astype(int)
        model = np.clip(truth + rng.normal(0, 0.08, 300), 0.001, 0.999)
        tier = np.where(model >= 0.5, "high", np.where(model >= 0.25, "medium", "low"))
        rows = Rows(y, tier.astype(object), {
            "model": model, "recency": -rng.integers(0, 365, 300).astype(float) + 300 * truth,
            "bgnbd": np.clip(truth + rng.normal(0, 0.15, 300), 0.001, 0.999),
        })  # fmt: skip
        parts.append((day, rows))
        realized.by_as_of_date.append({
            "as_of_date": day.isoformat(), "iso_week": iso_week(day),
            "label_window_closed_on": (day + timedelta(days=window_days or 30)).isoformat(),
            "model_versions": [SAMPLE_VERSION],
            "training_test_metrics": (
                {SAMPLE_VERSION: SAMPLE_METADATA["metrics"]} if day == days[0] else {}
            ),
            **evaluate(rows, 10),
        })  # fmt: skip
    for week in sorted({iso_week(d) for d, _ in parts}):
        mine = [(d, r) for d, r in parts if iso_week(d) == week]
        pooled = evaluate(Rows.pooled([r for _, r in mine]), 10)
        realized.by_week.append({
            "iso_week": week, "as_of_dates": [d.isoformat() for d, _ in mine],
            **{k: pooled[k] for k in ("rows", "observed_rate", "scores", "tiers")},
        })  # fmt: skip
    why = "label window not closed yet (no labels for this date)"  # realized_quality's words
    realized.pending.append({"as_of_date": "2025-12-31", "rows": 300, "reason": why})
    realized.notes.append("2025-12-08: BG/NBD left out (no stored parameters for ['v0'])")
    features = [
        {"feature": name, "kind": "numeric", "psi": round(0.03 * (i + 1), 3),
         "missing_reference": 0.0, "missing_latest": 0.01 * i, "alert": i >= 6}
        for i, name in enumerate(SAMPLE_FEATURES)
    ]  # fmt: skip
    drift = DriftResult(
        ["2025-10-31", "2025-10-31"], "2025-12-31", 300, 300, features,
        {"reference": "2025-12-01", "latest": "2025-12-31", "psi": 0.04, "alert": False},
        [f"{f['feature']}: PSI {f['psi']:.3f} > 0.2" for f in features if f["alert"]],
    )  # fmt: skip
    paths = PipelinePaths(features_dir=tmp_path / "features", scores_dir=tmp_path / "scores",
                          models_dir=tmp_path / "models")  # fmt: skip
    thresholds = {"psi": 0.2, "missing_increase": 0.05}
    report = build_report(realized, drift, metadata, paths, thresholds)
    _, html_path = write_report(report, tmp_path / "monitor.json", tmp_path / "report.html")
    return report, html_path
