"""The suite's session pipeline (tests/conftest.py: sample → dbt → Feast → XGBoost) scored by
the real `python -m scoring` on the model's test date (its label window closed) and on the
latest date (still open), into a temporary SCORES_DIR that monitoring then reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
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
