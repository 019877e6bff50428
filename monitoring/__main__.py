"""`python -m monitoring` (make monitor): realized quality and drift, as JSON and HTML.

Exit codes: 0 all is well; 2 nothing to monitor (no score snapshots, no labels mart, or no
closed label window and no drift check), with a message saying what to run; 3 a drift alert
fired (the report is written all the same).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from ingest.memory import Stages
from ingest.paths import PipelinePaths, pipeline_paths

log = logging.getLogger("monitoring")

NOTHING_TO_MONITOR, DRIFT_ALERT = 2, 3


def parser() -> argparse.ArgumentParser:
    paths = pipeline_paths()
    p = argparse.ArgumentParser(
        prog="python -m monitoring",
        description="Monitor the promoted model: join every batch score snapshot whose label "
        "window has closed (SCORES_DIR/snapshots, written by python -m scoring) with dbt's "
        "customer_labels and report, per as-of date, per ISO week and per tier, ROC-AUC, "
        "PR-AUC, Brier score and calibration of the model and of the recency and BG/NBD "
        "baselines on the same customers; check feature and score drift of the latest date "
        "(thresholds: MONITOR_* variables). Writes monitor.json and report.html to "
        "MONITORING_DIR. Exit code 0 fine, 2 nothing to monitor, 3 a drift alert fired.",
    )
    p.add_argument(
        "--features-dir",
        type=Path,
        help=f"the marts, customer_labels and customer_features (default: FEATURES_DIR, "
        f"{paths.features_dir})",
    )
    p.add_argument(
        "--scores-dir",
        type=Path,
        help=f"the batch scores and their snapshots (default: SCORES_DIR, {paths.scores_dir})",
    )
    p.add_argument(
        "--models-dir",
        type=Path,
        help=f"models/<version> and models/current (default: MODELS_DIR, {paths.models_dir})",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="where monitor.json and report.html go (default: MONITORING_DIR, data/monitoring)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _current_metadata(models_dir: Path) -> dict | None:
    """The promoted model's metadata.json (what drift compares with), or None without one."""
    try:
        return json.loads((models_dir / "current" / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # the heavy imports (drift and the baselines bring the modeling package) after --help
    from monitoring.settings import DRIFT_AVAILABLE, MonitorSettings

    folders = {"features_dir": args.features_dir, "scores_dir": args.scores_dir,
               "models_dir": args.models_dir}  # fmt: skip
    try:
        paths = PipelinePaths(**{k: v for k, v in folders.items() if v is not None})
        settings = MonitorSettings(**({"monitoring_dir": args.out} if args.out else {}))
    except ValidationError as exc:  # a bad MONITOR_* / folder value: a usage error (exit 2)
        cli.error(str(exc))
    from monitoring.realized import MonitorError, realized_quality
    from monitoring.report import build_report, write_report

    stages = Stages(log)
    try:
        realized = realized_quality(paths, settings.reliability_bins, not args.no_progress)
    except MonitorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return NOTHING_TO_MONITOR
    stages.lap("realized quality")
    metadata = _current_metadata(paths.models_dir)
    drift, skipped = None, None
    if not DRIFT_AVAILABLE:
        skipped = "monitoring/drift.py is not installed"
    elif metadata is None:
        skipped = f"no promoted model in {paths.models_dir} (make train)"
    else:
        from monitoring.drift import DriftError, check_drift

        try:
            drift = check_drift(paths, metadata, settings)
        except DriftError as exc:
            skipped = str(exc)
    stages.lap("drift")
    if skipped:
        log.warning("no drift check: %s", skipped)
    if not realized.by_as_of_date and drift is None:
        dates = ", ".join(p["as_of_date"] for p in realized.pending)
        print(
            f"error: nothing to monitor: no label window of the scored dates ({dates}) has "
            "closed yet; score an earlier date (python -m scoring --as-of YYYY-MM-DD) or wait",
            file=sys.stderr,
        )
        return NOTHING_TO_MONITOR
    report = build_report(realized, drift, metadata, paths, settings.thresholds, skipped)
    json_path, html_path = write_report(report, settings.json_path, settings.html_path)
    print("\n".join(report_lines(report)))
    print(f"json: {json_path}\nhtml: {html_path}")
    return DRIFT_ALERT if report["alerts"] else 0


def report_lines(report: dict) -> list[str]:
    """The console summary: one line per closed as-of date, then pending dates and alerts."""
    lines = []
    for entry in report["realized"]["by_as_of_date"]:
        model = entry["scores"]["model"]
        baselines = "; ".join(
            f"{name} ROC-AUC {_f(s['roc_auc'])}"
            for name, s in entry["scores"].items()
            if name != "model"
        )
        lines.append(
            f"{entry['as_of_date']}: {entry['rows']:,} customers, ROC-AUC {_f(model['roc_auc'])}, "
            f"PR-AUC {_f(model['pr_auc'])}, Brier {_f(model.get('brier'))}, predicted "
            f"{_f(model.get('mean_predicted'), 3)} vs observed {_f(entry['observed_rate'], 3)}"
            + (f" ({baselines})" if baselines else "")
        )
    for entry in report["realized"]["pending"]:
        lines.append(f"{entry['as_of_date']}: pending ({entry['reason']})")
    drift = report["drift"]
    if drift is None:
        lines.append(f"drift: not checked ({report['drift_not_checked']})")
    else:
        psi = (drift.get("score") or {}).get("psi")
        lines.append(
            f"drift of {drift.get('latest')}: {len(drift.get('features') or [])} features "
            f"checked, score PSI {_f(psi, 3)}, {len(drift.get('alerts') or [])} alert(s)"
        )
    lines += [f"ALERT {alert}" for alert in report["alerts"]]
    return lines


def _f(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


if __name__ == "__main__":
    sys.exit(main())
