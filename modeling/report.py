"""models/<version>/report.html: the evaluation a reviewer reads before trusting a model.

Self-contained HTML (inline CSS, no scripts) with PNG plots beside it, referenced by relative
path: the comparison table (models, cross-validation, baselines, the oracle when known), ROC
and PR curves, reliability (raw vs calibrated), confusion matrices at the chosen threshold,
feature importance (native and permutation) and per-slice metrics. Everything shown is on the
held-out test as-of date unless a heading says otherwise.

The page itself (head, styles, tables, rows of plots) is shared with the monitoring report
(monitoring/report.py), so both read alike and both fit a phone: the page never scrolls
sideways, a wide table scrolls in a box of its own, and each plot is a figure of its own, at
most the screen's width, beside the next on a wide screen and under it on a narrow one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display, no GUI toolkit
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_curve

TOP_FEATURES = 20


@dataclass
class ReportData:
    """What the report shows; train.py fills it from the run it just did."""

    version: str
    test_as_of: str
    chosen: str
    metrics: dict  # metrics.json as written
    y_test: np.ndarray
    # display name -> calibrated test probabilities (models) or scores (baselines, oracle)
    test_scores: dict[str, np.ndarray]
    chosen_raw: np.ndarray  # the chosen estimator's uncalibrated test probabilities
    confusion: dict[str, dict[str, int]]  # model name -> tn/fp/fn/tp at its threshold
    native_importance: pd.Series  # per original feature
    permutation_importance: pd.DataFrame  # feature, mean, sd (drop in PR-AUC)
    slices: dict[str, list[dict]]
    notes: list[str] = field(default_factory=list)


# ---- the page: head, styles, tables and rows of plots, shared with monitoring/report.py


def _fmt(value: object, digits: int = 4) -> str:
    if isinstance(value, float):
        return "–" if np.isnan(value) else f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))


def table(
    header: list[str], rows: list[list[object]], bold_row: int | None = None, cells: str = ""
) -> str:
    """A table in a box of its own, which scrolls sideways when the table is wider than the
    screen (a phone), so the page itself never does. Its cells keep to one line, but for
    `cells` "lists" (the second column lists dates, one a line), "words" (the last column is a
    sentence: it wraps) and "names" (the first column names a model in words: on a phone it
    wraps, so numbers show beside the names, not only the names); `bold_row` is the chosen
    model's."""
    columns = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="chosen"' if i == bold_row else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{_fmt(v)}</td>" for v in row) + "</tr>")
    box = " ".join(["wide", cells]).strip()
    return (
        f'<div class="{box}"><table><thead><tr>{columns}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def side_by_side(*images: str) -> str:
    """Plots side by side on a wide screen, one under the other on a phone, each at most the
    screen's width: one figure per plot, so a phone shows each twice as large as one wide
    figure of both would be."""
    return f'<div class="plots">{"".join(images)}</div>'


# the page never scrolls sideways; a table wider than the screen scrolls inside its own box (a
# shadow at an edge says there is more that way; a cell's date or number stays on one line, a
# model's name wraps on a phone); plots sit side by side, or one under the other, each at most
# the screen's width; a long word (a feature name, a path, a model version) wraps. On a wide
# screen a wide table may run on into the right margin (body's max-width is 1150px), up to 1em
# from the window's edge
CSS = """
body{font-family:system-ui,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;color:#222;
overflow-wrap:break-word}
table{border-collapse:collapse;font-size:.9em}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:right}
th:first-child,td:first-child{text-align:left}
tr.chosen{font-weight:bold;background:#eef5ff}
.note{background:#f7f7f7;padding:.8em 1em;border-left:4px solid #888}
.wide{overflow-x:auto;margin:.5em 0 1.5em;background:
linear-gradient(to right,#fff 30%,rgba(255,255,255,0)) left/2em 100% no-repeat local,
linear-gradient(to left,#fff 30%,rgba(255,255,255,0)) right/2em 100% no-repeat local,
radial-gradient(farthest-side at 0 50%,rgba(0,0,0,.25),transparent) left/.8em 100% no-repeat,
radial-gradient(farthest-side at 100% 50%,rgba(0,0,0,.25),transparent) right/.8em 100% no-repeat}
.wide td{white-space:nowrap}
.wide.lists td:nth-child(2){white-space:pre}
.wide.words td:last-child{white-space:normal;min-width:8em}
.wide.words :is(td,th):last-child{text-align:left}
img{max-width:100%;height:auto;box-sizing:border-box;border:1px solid #eee;margin:.5em 0}
.plots{display:flex;flex-wrap:wrap;column-gap:.5em}
.plots img{min-width:0}
@media (max-width:600px){body{margin:1em auto;padding:0 .75em}h1{font-size:1.6em}
.wide.names td:first-child{white-space:normal;min-width:9em}}
@media (min-width:1250px){.wide{width:fit-content;max-width:calc((100vw + 1150px)/2 - 1em)}}
"""


def head(title: str) -> str:
    """The page's <head>: the styles, and the viewport tag, without which a phone lays the page
    out 980 px wide and shows it zoomed out."""
    return f"""<head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{CSS}</style></head>"""


# ---- the plots: one figure per plot, at most ~550 px wide (5 in at 110 dpi), so two sit side
# by side in the page's 1150 px and a phone shows each at two thirds of its size, not a third

DPI = 110
PANEL = (5.0, 4.4)  # inches: a curve or a reliability diagram


def _save(fig: plt.Figure, path: Path, alt: str) -> str:
    """The figure as a PNG beside the report; the <img> that shows it."""
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return f'<img src="{html.escape(path.name)}" alt="{html.escape(alt)}">'


def _slug(name: str) -> str:
    """A model's name as part of a file name (BG/NBD: bg-nbd)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _curves(data: ReportData, directory: Path) -> str:
    (roc_fig, roc_ax), (pr_fig, pr_ax) = plt.subplots(figsize=PANEL), plt.subplots(figsize=PANEL)
    for name, score in data.test_scores.items():
        style = "--" if name.startswith(("Baseline", "Oracle")) else "-"
        fpr, tpr, _ = roc_curve(data.y_test, score)
        roc_ax.plot(fpr, tpr, style, lw=1.4, label=name)
        precision, recall, _ = precision_recall_curve(data.y_test, score)
        ap = average_precision_score(data.y_test, score)
        pr_ax.plot(recall, precision, style, lw=1.4, label=f"{name} (AP {ap:.3f})")
    roc_ax.plot([0, 1], [0, 1], ":", color="grey", lw=1)
    pr_ax.axhline(data.y_test.mean(), ls=":", color="grey", lw=1, label="base rate")
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    pr_ax.set(xlabel="recall", ylabel="precision", title="Precision–recall")
    roc_ax.legend(fontsize=7, loc="lower right")
    pr_ax.legend(fontsize=7, loc="upper right")
    return side_by_side(
        _save(roc_fig, directory / "roc.png", "ROC curves"),
        _save(pr_fig, directory / "pr.png", "precision–recall curves"),
    )


def _reliability(data: ReportData, directory: Path) -> str:
    name = data.metrics["models"][data.chosen]["name"]
    fig, ax = plt.subplots(figsize=PANEL)
    for label, proba in (("raw", data.chosen_raw), ("calibrated", data.test_scores[name])):
        observed, predicted = calibration_curve(
            data.y_test, np.clip(proba, 0, 1), n_bins=10, strategy="quantile"
        )
        ax.plot(predicted, observed, "o-", ms=3, label=f"{name}, {label}")
    ax.plot([0, 1], [0, 1], ":", color="grey", lw=1, label="perfect")
    ax.set(xlabel="mean predicted probability", ylabel="observed share", title="Reliability")
    ax.legend(fontsize=8)
    return side_by_side(_save(fig, directory / "reliability.png", f"reliability of {name}"))


def _confusion(data: ReportData, directory: Path) -> str:
    """One small matrix per model (2.5 in: four in a row on a wide screen, one a row on a
    phone, each at its own size)."""
    images = []
    for name, c in data.confusion.items():
        fig, ax = plt.subplots(figsize=(2.5, 2.5))
        grid = np.array([[c["tn"], c["fp"]], [c["fn"], c["tp"]]])
        ax.imshow(grid, cmap="Blues")
        for (i, j), value in np.ndenumerate(grid):
            colour = "white" if value > grid.max() / 2 else "black"
            ax.text(j, i, f"{value:,}", ha="center", va="center", color=colour)
        ax.set(xticks=[0, 1], yticks=[0, 1], title=name)
        ax.set_xticklabels(["no", "yes"])
        ax.set_yticklabels(["no", "yes"])
        ax.set_xlabel("predicted")
        ax.set_ylabel("actual")
        alt = f"confusion matrix of {name}"
        images.append(_save(fig, directory / f"confusion-{_slug(name)}.png", alt))
    return side_by_side(*images)


def _importance(data: ReportData, directory: Path) -> str:
    native_fig, native_ax = plt.subplots(figsize=(5.0, 6.0))
    native = data.native_importance.sort_values(ascending=False).head(TOP_FEATURES)[::-1]
    native_ax.barh(native.index, native.to_numpy())
    native_ax.set(title="Native (chosen model)", xlabel="share of total")
    perm_fig, perm_ax = plt.subplots(figsize=(5.0, 6.0))
    perm = data.permutation_importance.sort_values("mean", ascending=False).head(TOP_FEATURES)
    perm = perm[::-1]
    perm_ax.barh(perm["feature"], perm["mean"], xerr=perm["sd"])
    perm_ax.set(title="Permutation, on the test date", xlabel="drop in PR-AUC")
    for ax in (native_ax, perm_ax):
        ax.tick_params(axis="y", labelsize=9)
    return side_by_side(
        _save(native_fig, directory / "importance-native.png", "native feature importance"),
        _save(perm_fig, directory / "importance-permutation.png", "permutation importance"),
    )


# ---- the training report's tables and page


def _cv(entry: dict, metric: str) -> str:
    cv = entry.get("cv", {}).get(metric)
    if not cv or not cv.get("n"):
        return "–"
    return f"{cv['mean']:.4f} ± {cv['sd']:.4f} ({cv['n']})"


def _comparison(data: ReportData) -> str:
    m = data.metrics
    rows, chosen_row = [], None
    for key, entry in m["models"].items():
        t = entry["test"]
        if key == m["chosen"]:
            chosen_row = len(rows)
        rows.append(
            [
                entry["name"] + (" (chosen)" if key == m["chosen"] else ""),
                entry["validation"][m["selection_metric"]],
                _cv(entry, "roc_auc"),
                _cv(entry, "pr_auc"),
                t["roc_auc"],
                t["pr_auc"],
                t["f1"],
                t["brier"],
            ]
        )
    for entry in m["baselines"].values():
        t = entry["test"]
        rows.append(
            [
                entry["name"],
                entry["validation"].get(m["selection_metric"], float("nan")),
                _cv(entry, "roc_auc"),
                _cv(entry, "pr_auc"),
                t["roc_auc"],
                t["pr_auc"],
                t.get("f1", float("nan")),
                t.get("brier", float("nan")),
            ]
        )
    if m.get("oracle"):
        t = m["oracle"]["test"]
        rows.append(
            ["Oracle (the generator's true probability)", "–", "–", "–", t["roc_auc"],
             t["pr_auc"], "–", t.get("brier", float("nan"))]
        )  # fmt: skip
    header = [
        "model",
        f"validation {m['selection_metric']}",
        "CV ROC-AUC (mean ± sd, folds)",
        "CV PR-AUC (mean ± sd, folds)",
        "test ROC-AUC",
        "test PR-AUC",
        "test F1",
        "test Brier",
    ]
    return table(header, rows, chosen_row, cells="names")


def _slices(data: ReportData) -> str:
    parts = []
    for slicing, rows in data.slices.items():
        columns = ["slice", "rows", "positive_rate", "mean_probability", "roc_auc", "pr_auc", "f1"]
        rows_table = table(
            ["slice", "rows", "observed rate", "mean probability", "ROC-AUC", "PR-AUC", "F1"],
            [[r[c] for c in columns] for r in rows],
        )
        parts.append(f"<h3>{html.escape(slicing.replace('_', ' '))}</h3>{rows_table}")
    return "".join(parts)


HOW_TO_READ = """
<p class="note"><b>How to read this.</b> Every model was fitted on older as-of dates, calibrated
and compared on the next ones (the validation column chose the model and its threshold), and
is scored here on the latest held-out as-of date ({test}), which neither fitting nor choosing
saw. The cross-validation columns repeat that on earlier dates (expanding window: each fold
trains only on dates whose label window ended before the date it is scored on); a small
spread means the ranking of models is not luck of one date. ROC-AUC is the chance a random
buyer is ranked above a random non-buyer (0.5 = coin flip); PR-AUC is the average precision
along the ranked list, to be compared with the base rate ({rate:.1%} here). Both baselines use
no learning beyond their own fit: recency ranks by days since the last order; BG/NBD is the
classic buy-till-you-die model fitted on the same training rows. A model worth serving beats
both. The oracle, when shown, is the sample generator's true probability: the ceiling no
model can beat. The reliability plot should follow the diagonal after calibration: a served
probability of 0.3 then means 30 out of 100 such customers buy. Slices show where the model is
weaker; small slices have noisy metrics, so read their row counts first.</p>
"""


def write_report(directory: Path, data: ReportData) -> Path:
    """Write report.html and its PNGs into directory; return the HTML path."""
    plots: list[tuple[str, Callable[[ReportData, Path], str]]] = [
        ("ROC and precision–recall curves (test date)", _curves),
        ("Reliability: raw vs calibrated (chosen model, test date)", _reliability),
        ("Confusion matrices at each model's chosen threshold (test date)", _confusion),
        (f"Feature importance (top {TOP_FEATURES})", _importance),
    ]
    figures = "".join(
        f"<h2>{html.escape(title)}</h2>{draw(data, directory)}" for title, draw in plots
    )
    m = data.metrics
    chosen = m["models"][m["chosen"]]
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in data.notes)
    gate = m["gate"]
    verdict = "passed" if gate["passed"] else "NOT passed"
    judge = "its mean over the CV folds of" if m.get("chosen_on") == "cv" else "validation"
    page = f"""<!doctype html>
<html lang="en">{head(f"Model report {data.version}")}<body>
<h1>Repeat-purchase model {html.escape(data.version)}</h1>
<p>Chosen: <b>{html.escape(chosen["name"])}</b> by {judge} {m["selection_metric"]};
threshold {chosen["test"]["threshold"]:.4f}; test as-of date {html.escape(data.test_as_of)}
({len(data.y_test):,} customers, {data.y_test.mean():.1%} bought within the window).
Quality gate: {verdict} ({html.escape(gate["rule"])}).</p>
{HOW_TO_READ.format(test=html.escape(data.test_as_of), rate=float(data.y_test.mean()))}
<h2>Comparison</h2>
{_comparison(data)}
{f"<ul>{notes}</ul>" if notes else ""}
{figures}
<h2>Per-slice metrics (chosen model, test date)</h2>
{_slices(data)}
</body></html>
"""
    path = directory / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
