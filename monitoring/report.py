"""The monitoring report: monitor.json (the data) and report.html (the same data, read by a person).

The HTML is one self-contained file: the page the training report is made of
(modeling/report.py: its head, styles, tables and rows of plots, which fit a phone) with the
plots inline as PNG data, so it can be mailed or archived alone. Both files are written to a
temporary name and renamed into place, so a reader never sees half a report.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import json
import os
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display, no GUI toolkit
import matplotlib.pyplot as plt

from ingest.paths import PipelinePaths
from modeling.report import head, side_by_side, table
from monitoring.realized import MODEL, NAMES, PROBABILITIES, Realized

COLOURS = {key: f"C{i}" for i, key in enumerate(NAMES)}  # one colour per score in every plot

# ---- the data -------------------------------------------------------------------------------


def build_report(
    realized: Realized,
    drift: object | None,
    metadata: dict | None,
    paths: PipelinePaths,
    thresholds: dict[str, float],
    drift_not_checked: str | None = None,
) -> dict:
    """monitor.json: realized quality, drift (None when not checked, and why), the alerts and
    the thresholds they were raised at (MONITOR_* of this run, DriftSettings.thresholds)."""
    drift_dict = dataclasses.asdict(drift) if drift is not None else None
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "current_model": None
        if metadata is None
        else {
            "version": metadata.get("version"),
            "as_of_range": metadata.get("as_of_range"),
            # the window the model predicts: the report's, before any label window has closed
            "label_window_days": metadata.get("label_window_days"),
            "test_metrics": {
                k: (metadata.get("metrics") or {}).get(k) for k in ("roc_auc", "pr_auc", "brier")
            },
        },
        "inputs": {
            "scores_dir": str(paths.scores_dir),
            "features_dir": str(paths.features_dir),
            "models_dir": str(paths.models_dir),
        },
        "realized": realized.as_dict(),
        "drift": drift_dict,
        "drift_not_checked": drift_not_checked,
        "thresholds": thresholds,
        "alerts": list(drift_dict["alerts"]) if drift_dict else [],
    }


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_report(report: dict, json_path: Path, html_path: Path) -> tuple[Path, Path]:
    _atomic_write(json_path, json.dumps(report, indent=2, allow_nan=False, default=str))
    _atomic_write(html_path, render_html(report))
    return json_path, html_path


# ---- the plots --------------------------------------------------------------------------------


def _inline(fig: plt.Figure, alt: str) -> str:
    """The figure as an <img> with the PNG inside it (no file beside the report)."""
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value


def _days(entries: list[dict]) -> list[date]:
    return [date.fromisoformat(e["as_of_date"]) for e in entries]


def _over_time(entries: list[dict]) -> str:
    """ROC-AUC and PR-AUC per as-of date, every score; the training test metric as a star."""
    days = _days(entries)
    plots = []
    for metric, title in (("roc_auc", "ROC-AUC"), ("pr_auc", "PR-AUC")):
        fig, ax = plt.subplots(figsize=(5.5, 4.2))
        for key, name in NAMES.items():
            values = [_nan(e["scores"].get(key, {}).get(metric)) for e in entries]
            style = "o-" if key == MODEL else "o--"
            ax.plot(days, values, style, ms=4, lw=1.4, color=COLOURS[key], label=name)
        for day, e in zip(days, entries, strict=True):
            for version, reference in e["training_test_metrics"].items():
                ax.plot([day], [_nan(reference.get(metric))], "*", ms=13, color="black",
                        label=f"training report, test date ({version})")  # fmt: skip
        ax.set(title=f"Realized {title} by as-of date", xlabel="as-of date", ylabel=title)
        ax.set_xticks(days)
        ax.tick_params(axis="x", rotation=45, labelsize=8)
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=True))
        ax.legend(unique.values(), unique.keys(), fontsize=7)
        plots.append(_inline(fig, f"realized {title} over time"))
    return side_by_side(*plots)


def _calibration(entries: list[dict]) -> str:
    """Mean predicted vs observed rate per date, and the latest date's reliability diagram."""
    days = _days(entries)
    trend_fig, trend = plt.subplots(figsize=(5.5, 4.4))
    diagram_fig, diagram = plt.subplots(figsize=(5.5, 4.4))
    trend.plot(days, [_nan(e["observed_rate"]) for e in entries], "ko-", ms=4, label="observed")
    latest = entries[-1]
    for key in PROBABILITIES:
        if key not in latest["scores"]:
            continue
        predicted = [_nan(e["scores"].get(key, {}).get("mean_predicted")) for e in entries]
        trend.plot(days, predicted, "o--", ms=4, color=COLOURS[key],
                   label=f"{NAMES[key]}: mean predicted")  # fmt: skip
        bins = [b for b in latest["scores"][key]["reliability"] if b["rows"]]
        diagram.plot([b["mean_predicted"] for b in bins], [b["observed_rate"] for b in bins],
                     "o-", ms=4, color=COLOURS[key], label=NAMES[key])  # fmt: skip
    trend.set(title="Predicted vs observed repeat rate", xlabel="as-of date", ylabel="share")
    trend.set_xticks(days)
    trend.tick_params(axis="x", rotation=45, labelsize=8)
    trend.legend(fontsize=7)
    diagram.plot([0, 1], [0, 1], ":", color="grey", lw=1, label="perfect")
    diagram.set(title=f"Reliability, as of {latest['as_of_date']}",
                xlabel="mean predicted probability", ylabel="observed share")  # fmt: skip
    diagram.legend(fontsize=7)
    return side_by_side(
        _inline(trend_fig, "mean predicted vs observed repeat rate over time"),
        _inline(diagram_fig, f"reliability as of {latest['as_of_date']}"),
    )


# ---- the tables -------------------------------------------------------------------------------


QUALITY_HEADER = [
    "rows", "observed rate", "mean predicted", "ROC-AUC", "PR-AUC", "Brier", "calibration error",
    "recency ROC-AUC", "recency PR-AUC", "BG/NBD ROC-AUC", "BG/NBD PR-AUC", "BG/NBD Brier",
]  # fmt: skip


def _quality(entry: dict) -> list[object]:
    s = entry["scores"]
    model, recency, bgnbd = s[MODEL], s.get("recency", {}), s.get("bgnbd", {})
    values = [
        entry["observed_rate"], model.get("mean_predicted"), model["roc_auc"], model["pr_auc"],
        model.get("brier"), model.get("calibration_error"), recency.get("roc_auc"),
        recency.get("pr_auc"), bgnbd.get("roc_auc"), bgnbd.get("pr_auc"), bgnbd.get("brier"),
    ]  # fmt: skip
    return [entry["rows"], *(_nan(v) for v in values)]


def _by_date(entries: list[dict]) -> str:
    rows = []
    for e in entries:
        reference = [_nan(r.get("roc_auc")) for r in e["training_test_metrics"].values()]
        rows.append([e["as_of_date"], ", ".join(e["model_versions"]), *_quality(e),
                     reference[0] if reference else "–"])  # fmt: skip
    header = ["as-of date", "model", *QUALITY_HEADER, "training report test ROC-AUC"]
    return table(header, rows)


def _by_week(weeks: list[dict]) -> str:
    rows = [[w["iso_week"], "\n".join(w["as_of_dates"]), *_quality(w)] for w in weeks]
    return table(["ISO week", "as-of dates", *QUALITY_HEADER], rows, cells="lists")


def _by_tier(entries: list[dict]) -> str:
    rows = [[e["as_of_date"], t["tier"], *_quality(t)] for e in entries for t in e["tiers"]]
    return table(["as-of date", "tier", *QUALITY_HEADER], rows)


def _reliability(entry: dict) -> str:
    parts = []
    for key in PROBABILITIES:
        if key not in entry["scores"]:
            continue
        rows = [
            [f"{b['lower']:.1f}–{b['upper']:.1f}", b["rows"], _nan(b["mean_predicted"]),
             _nan(b["observed_rate"])]
            for b in entry["scores"][key]["reliability"]
        ]  # fmt: skip
        parts.append(f"<h3>{html.escape(NAMES[key])}</h3>")
        parts.append(table(["probability bin", "rows", "mean predicted", "observed rate"], rows))
    return "".join(parts)


def _drift(drift: dict | None, why_not: str | None, thresholds: dict) -> str:
    if drift is None:
        return f"<p>Not checked: {html.escape(why_not or 'unknown')}.</p>"
    latest, reference = drift.get("latest"), [str(d) for d in drift.get("reference") or []]
    said = f"Latest as-of date {latest}" if latest else "The latest as-of date"
    if len(set(reference)) == 1:
        said += f" against the model's last training date {reference[0]}"
    elif reference:
        said += f" against the training window {reference[0]} – {reference[-1]}"
    rules = []
    if thresholds.get("psi") is not None:
        rules.append(f"a PSI above {thresholds['psi']}")
    if thresholds.get("missing_increase") is not None:
        rules.append(f"a share of missing values up by more than {thresholds['missing_increase']}")
    said += f". An alert: {', or '.join(rules)}." if rules else "."
    parts = [f"<p>{html.escape(said)}</p>"]
    score = drift.get("score") or {}
    if score:
        parts.append("<h3>Score</h3>")
        words = "words" if "reason" in score else ""  # why it was not compared, in a sentence
        parts.append(table(_names(score), [[_cell(v) for v in score.values()]], cells=words))
    features = drift.get("features") or []
    if features:
        header = list(dict.fromkeys(k for f in features for k in f))
        parts.append("<h3>Features</h3>")
        rows = [[_cell(f.get(k)) for k in header] for f in features]
        parts.append(table(_names(header), rows))
    return "".join(parts)


def _names(keys: Iterable[str]) -> list[str]:
    """Column headers from monitor.json's keys: words (missing_latest: missing latest)."""
    return [k.replace("_", " ").replace("psi", "PSI") for k in keys]


def _cell(value: object) -> object:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "ALERT" if value else "ok"
    return value


HOW_TO_READ = """
<p class="note"><b>How to read this.</b> Each as-of date's batch scores (python -m scoring)
are compared with what those customers did in the {window} after it, once that window has
closed. ROC-AUC is the chance a random buyer is ranked above a random non-buyer; PR-AUC is the
average precision along the ranked list (compare it with the observed rate); Brier is the mean
squared error of the probability; the calibration error is the row-weighted gap between mean
predicted and observed rate over the probability bins. The baselines are scored on the same
customers: recency ranks by days since the last order, BG/NBD uses the parameters fitted beside
the scoring model. On the model's own test date the realized numbers should match the training
report (the star); a model that falls to the baselines on later dates should be retrained.
Tiers are the ones the marketing team acted on; within a tier ROC-AUC is lower by construction
(the spread of scores is narrower).</p>
"""


def _window_days(report: dict) -> int | None:
    """The label window: the labels', else the one the promoted model predicts (none has
    closed yet), else None (not known: the page then says nothing about its length)."""
    model = report.get("current_model") or {}
    return report["realized"].get("label_window_days") or model.get("label_window_days")


def _when(stamp: object) -> str:
    """generated_at in words (3 Dec 2026, 17:18 UTC); as written when it is not a timestamp."""
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    zone = "" if moment.tzinfo is None else moment.strftime(" UTC%z").replace("+0000", "")
    return f"{moment.day} {moment:%b %Y, %H:%M}{zone}"


def _header(report: dict) -> str:
    """When, which model, which window, in words: what is not known is said or left out,
    never a dash or a None where a name or a number should be."""
    model = report.get("current_model")
    parts = [f"Generated {html.escape(_when(report['generated_at']))}"]
    if model is None:
        parts.append("no promoted model")
    elif model.get("version") is None:
        parts.append("promoted model (version not recorded)")
    else:
        parts.append(f"promoted model <b>{html.escape(str(model['version']))}</b>")
    window = _window_days(report)
    if window:
        parts.append(f"label window {window} days")
    return "; ".join(parts) + "."


def render_html(report: dict) -> str:
    realized = report["realized"]
    entries = realized["by_as_of_date"]
    window = _window_days(report)
    alerts = "".join(f"<li>{html.escape(a)}</li>" for a in report["alerts"])
    pending = table(
        ["as-of date", "customers scored", "why not yet"],
        [[p["as_of_date"], p["rows"], p["reason"]] for p in realized["pending"]],
        cells="words",
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in realized["notes"])
    if entries:
        quality = f"""
<h2>Realized performance over time</h2>
{_over_time(entries)}
<h3>By as-of date</h3>
{_by_date(entries)}
<h3>By ISO week of the as-of date</h3>
{_by_week(realized["by_week"])}
<h2>Calibration</h2>
{_calibration(entries)}
<h3>Reliability table, as of {html.escape(entries[-1]["as_of_date"])}</h3>
{_reliability(entries[-1])}
<h2>By tier</h2>
{_by_tier(entries)}"""
    else:
        quality = (
            "<h2>Realized performance</h2><p>No scored date's label window has closed yet.</p>"
        )
    return f"""<!doctype html>
<html lang="en">{head("Model monitoring")}<body>
<h1>Model monitoring</h1>
<p>{_header(report)}</p>
{f'<div class="note"><b>Alerts</b><ul>{alerts}</ul></div>' if alerts else "<p>No alert.</p>"}
{HOW_TO_READ.format(window=f"{window} days" if window else "days (the label window)")}
{quality}
<h2>Pending (label window still open)</h2>
{pending if realized["pending"] else "<p>None.</p>"}
<h2>Drift of the latest as-of date</h2>
{_drift(report["drift"], report["drift_not_checked"], report["thresholds"])}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
</body></html>
"""
