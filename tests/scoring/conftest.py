"""The suite's session pipeline (tests/conftest.py: sample → dbt → Feast → XGBoost) scored by
the real `python -m scoring` command into a temporary SCORES_DIR."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def run_scoring(env: dict[str, str], *args: str) -> Run:
    """`python -m scoring` with the pipeline folders in `env` (FEATURES_DIR, MODELS_DIR, …)."""
    result = subprocess.run(
        [sys.executable, "-m", "scoring", "--no-progress", *args],
        cwd=REPO_ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return Run(result.returncode, result.stdout, result.stderr)


@pytest.fixture(scope="session")
def scores_dir(warehouse, trained_models, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scores")
    env = {
        "FEATURES_DIR": str(warehouse.features_dir),
        "MODELS_DIR": str(trained_models),
        "SCORES_DIR": str(out),
    }
    run = run_scoring(env)
    assert run.returncode == 0, run.stderr
    assert "scored" in run.stdout and "tiers: high" in run.stdout
    return out
