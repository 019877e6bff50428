"""Every asset materialized in this process (`dagster.materialize`), as the daily job runs them,
on a small generated sample: dbt build, Feast apply + materialize, training (one fast model),
batch scores and the monitoring report, every folder in a temporary directory."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
import yaml
from dagster import materialize

from feature_repo.store import REPO_DIR as FEATURE_REPO
from tests.conftest import generate_sample

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pipeline_env(tmp_path_factory, dbt_target):
    """RAW_DIR with 1,200 generated customers and every other folder empty, in a temp dir;
    Feast's registry and SQLite store there too (a feature_store yaml of absolute paths)."""
    root = tmp_path_factory.mktemp("orchestrated")
    raw = generate_sample(root / "raw", customers=1200, seed=7)
    feast = yaml.safe_load((FEATURE_REPO / "feature_store.yaml").read_text())
    feast["registry"] = str(root / "feast" / "registry.db")
    feast["online_store"]["path"] = str(root / "feast" / "online_store.db")
    (root / "feast").mkdir()
    (root / "feature_store.yaml").write_text(yaml.safe_dump(feast))
    (root / "features").mkdir()
    env = {
        "RAW_DIR": raw,
        "DUCKDB_PATH": root / "warehouse.duckdb",
        "FEATURES_DIR": root / "features",
        "MODELS_DIR": root / "models",
        "SCORES_DIR": root / "scores",
        "MONITORING_DIR": root / "monitoring",
        "FEAST_FS_YAML_FILE_PATH": root / "feature_store.yaml",
        # one model, no cross-validation: the smallest training that still promotes
        "TRAIN_MODELS": "xgb",
        "TRAIN_CV_FOLDS": "0",
        "TRAIN_PERMUTATION_ROWS": "500",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, str(value))
        yield root


def test_every_asset_materializes(pipeline_env, definitions):
    result = materialize(definitions.ASSETS, resources=definitions.RESOURCES)
    assert result.success
    done = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    assert {"customer_features", "customer_labels", "feast_online_store", "model",
            "customer_scores", "monitoring_report"} <= done  # fmt: skip
    assert (pipeline_env / "feast" / "online_store.db").exists()
    current = pipeline_env / "models" / "current"
    assert current.is_symlink() and (current / "metadata.json").exists()
    scores = pipeline_env / "scores" / "customer_scores.parquet"
    assert pq.ParquetFile(scores).metadata.num_rows > 0
    model = result.asset_materializations_for_node("model")[0].metadata
    assert model["promoted"].value is True  # the first model: no champion to beat
    assert (pipeline_env / "monitoring" / "report.html").exists()
    checks = {
        (check.asset_key.to_user_string(), check.check_name): check.passed
        for check in result.get_asset_check_evaluations()
    }
    assert ("monitoring_report", "no_drift_alert") in checks
    dbt_tests = [passed for (asset, _), passed in checks.items() if asset != "monitoring_report"]
    assert dbt_tests and all(dbt_tests)  # dbt's tests ran as asset checks, and passed
