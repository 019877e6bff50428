"""The stages after dbt as Dagster assets, each one the command `make pipeline` runs.

Every stage runs its own CLI in a child process (`python -m …` / `feast`), exactly as the
Makefile does: the stages keep their one definition (flags, environment, exit codes) in their
packages, a stage's memory is returned when it ends, and what it prints streams into the run's
logs. Folders come from the environment as for the CLIs (RAW_DIR, DUCKDB_PATH, FEATURES_DIR,
MODELS_DIR, SCORES_DIR, FEAST_FS_YAML_FILE_PATH, TRAIN_*).
"""

import json
import os
import subprocess
import sys
from collections import deque
from pathlib import Path

import pyarrow.parquet as pq
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_dbt import get_asset_key_for_model

from ingest.paths import REPO_ROOT, pipeline_paths
from orchestration.dbt import dbt_models

BIN = Path(sys.executable).parent
GROUP = "model_pipeline"


def _mart(name: str):
    return get_asset_key_for_model([dbt_models], name)


def run_command(context: AssetExecutionContext, command: list[str], ok=(0,)) -> tuple[int, str]:
    """Run one stage's command from the checkout, its output streamed to stdout (the run's
    compute log) as it comes; a return code outside `ok` fails the asset with the output's
    tail. Returns the code and the last lines of output."""
    context.log.info(f"running: {' '.join(command)}")
    tail: deque[str] = deque(maxlen=40)
    with subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as child:
        for line in child.stdout:
            sys.stdout.write(line)
            tail.append(line)
    output = "".join(tail)
    if child.returncode not in ok:
        raise Failure(
            description=f"{' '.join(command)} exited {child.returncode}",
            metadata={"output": MetadataValue.md(f"```\n{output}\n```")},
        )
    return child.returncode, output


def python_module(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


@asset(deps=[_mart("customer_features")], group_name=GROUP)
def feast_online_store(context: AssetExecutionContext) -> MaterializeResult:
    """`feast apply` of feature_repo/definitions.py, then the latest as-of features online
    (`python -m feature_repo.materialize`): the Makefile's `materialize` target."""
    run_command(context, [str(BIN / "feast"), "-c", str(REPO_ROOT / "feature_repo"), "apply"])
    _, output = run_command(context, python_module("feature_repo.materialize"))
    summary = [line for line in output.splitlines() if line.startswith("materialized ")]
    return MaterializeResult(metadata={"summary": summary[-1] if summary else ""})


@asset(deps=[feast_online_store, _mart("customer_labels")], group_name=GROUP)
def model(context: AssetExecutionContext) -> MaterializeResult:
    """`python -m modeling.train`: train, compare, and promote to models/current when the
    challenger beats the recency baseline and the champion. When it does not (the champion is
    kept, or GATE_FAILED) the model in force stays and the run goes on to score with it."""
    from modeling.train import GATE_FAILED  # imported here: sklearn and xgboost load slowly

    current = pipeline_paths().models_dir / "current"
    before = _link(current)
    code, _ = run_command(context, python_module("modeling.train"), ok=(0, GATE_FAILED))
    after = _link(current)
    if after is not None and after != before:
        outcome = "promoted"
    else:
        outcome = "did not beat the recency baseline" if code == GATE_FAILED else "champion kept"
    metadata: dict = {"promoted": outcome == "promoted", "outcome": outcome, "current": after or ""}
    if (current / "metadata.json").exists():
        trained = json.loads((current / "metadata.json").read_text())
        metrics = trained.get("metrics", {})
        metadata.update({k: v for k, v in metrics.items() if isinstance(v, float)})
    return MaterializeResult(metadata=metadata)


def _link(current: Path) -> str | None:
    """The version models/current points at (a symlink, see modeling.artifact.promote)."""
    return os.readlink(current) if current.is_symlink() else None


@asset(deps=[model, _mart("customer_features")], group_name=GROUP)
def customer_scores(context: AssetExecutionContext) -> MaterializeResult:
    """`python -m scoring`: every customer of the latest as-of date scored by models/current
    into SCORES_DIR/customer_scores.parquet and the date's snapshot."""
    run_command(context, python_module("scoring", "--no-progress"))
    scores = pipeline_paths().scores_dir / "customer_scores.parquet"
    return MaterializeResult(
        metadata={"path": str(scores), "rows": pq.ParquetFile(scores).metadata.num_rows}
    )


@asset(
    deps=[customer_scores, model, _mart("customer_features"), _mart("customer_labels")],
    group_name=GROUP,
    check_specs=[AssetCheckSpec("no_drift_alert", asset="monitoring_report")],
)
def monitoring_report(context: AssetExecutionContext) -> MaterializeResult:
    """`python -m monitoring`: realized quality of the scored dates whose label window closed,
    and drift of the latest date, into MONITORING_DIR (monitor.json, report.html).

    Its exit codes are outcomes, not failures: NOTHING_TO_MONITOR (no closed window and no
    drift check yet, e.g. the first run) and DRIFT_ALERT (report written) let the run finish;
    an alert fails the `no_drift_alert` check, with the alerts, as a warning.
    """
    from monitoring.__main__ import DRIFT_ALERT, NOTHING_TO_MONITOR
    from monitoring.settings import MonitorSettings

    code, output = run_command(
        context,
        python_module("monitoring", "--no-progress"),
        ok=(0, NOTHING_TO_MONITOR, DRIFT_ALERT),
    )
    settings = MonitorSettings()
    written = code != NOTHING_TO_MONITOR
    alerts = json.loads(settings.json_path.read_text()).get("alerts", []) if written else []
    check = AssetCheckResult(
        check_name="no_drift_alert",
        passed=code != DRIFT_ALERT,
        severity=AssetCheckSeverity.WARN,
        metadata={"alerts": MetadataValue.json(alerts)},
    )
    metadata = {
        "outcome": {0: "ok", NOTHING_TO_MONITOR: "nothing to monitor yet"}.get(code, "drift alert"),
        "report": str(settings.html_path) if written else "",
        "output": MetadataValue.md(f"```\n{output}\n```"),
    }
    return MaterializeResult(metadata=metadata, check_results=[check])


ASSETS = [feast_online_store, model, customer_scores, monitoring_report]
