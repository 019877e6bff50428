"""Every command answers --help: a usage line naming itself, exit status 0, no side effects."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ingest.paths import REPO_ROOT

COMMANDS = [
    "api",  # its parser lives in api/server.py
    "api.docs_examples",
    "ingest.generate",
    "ingest.load",
    "ingest.holidays",
    "feature_repo.materialize",
    "feature_repo.lookup",
    "modeling.train",
    "modeling.rollback",
    "monitoring",
    "orchestration",
    "scoring",
    "scoring.spark_job",
    "backfill",
    "spark_pipeline",
    "bench",
    "bench.serving",
    "bench.scoring",
    "bench.pipeline",
    "bench.audiences",
    "bench.explanations",
    "bench.feature_store",
    "bench.backfill",
    "bench.dbt_vs_duckdb",
    "bench.model_quality",
    "bench.uci_feature_study",
]


def test_the_list_names_every_command_module():
    parsers = {
        ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__main__")
        for folder in (
            *("api", "ingest", "feature_repo", "modeling", "backfill", "scoring", "bench"),
            *("monitoring", "orchestration", "spark_pipeline"),
        )
        for path in (REPO_ROOT / folder).rglob("*.py")
        if "argparse.ArgumentParser(" in path.read_text()
    }
    assert parsers == set(COMMANDS) - {"api"} | {"api.server"}


@pytest.mark.parametrize("module", COMMANDS)
def test_help(module):
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith(f"usage: python -m {module}"), result.stdout[:300]
