"""Champion / challenger: a new model replaces the one in production only if it is better.

Beating the recency baseline (modeling.selection.Gate) says a model is worth serving, not that
it is better than the one already served. So a training run's chosen model (the challenger)
is also compared with models/current (the champion), loaded as any artifact is (files are
data, checked against the FeatureService), on the challenger's test rows: the newest fully
labelled as-of date, which the challenger was not fitted on, provided the champion was not
either (its metadata's training and validation dates must not contain it). Both are scored
there by the selection metric (PR-AUC by default; ROC-AUC is reported beside it), with their
calibrated probabilities, as served. The challenger wins only by more than `multiplier` CV
standard deviations (modeling.selection.ChampionMargin).

When there is nothing to compare with, today's rule stands and the verdict says why: no
champion (the first run), or one that cannot be scored on these rows (trained on other
features: another fingerprint; another label window; an artifact that no longer loads).
When the champion was fitted on the test date itself, no date is unseen by both: the champion
is kept, unless `force` (TrainSettings.force_promote) says to promote anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from modeling.artifact import ArtifactError, load_model
from modeling.evaluate import ranking_metrics
from modeling.promotions import current_version
from modeling.selection import ChampionMargin
from modeling.training_set import TrainingSet

METRICS = ("pr_auc", "roc_auc")


@dataclass(frozen=True)
class Verdict:
    """Whether the challenger may replace the champion, and the sentence that says why."""

    promote: bool
    reason: str
    champion: str | None  # the version in models/current, if any
    compared_on: str | None = None  # the as-of date both were scored on
    figures: dict[str, Any] | None = None  # both models' METRICS, and the margin rule

    def as_dict(self) -> dict[str, Any]:
        return {
            "promoted": self.promote,
            "reason": self.reason,
            "champion": self.champion,
            "compared_on": self.compared_on,
            "figures": self.figures,
        }


def _fitted_on(metadata: dict[str, Any], day: date) -> str | None:
    """Which of the champion's fitting ranges (training, validation) contains `day`, if any."""
    ranges = metadata.get("as_of_range", {})
    for part in ("train", "validation"):
        bounds = ranges.get(part)
        try:
            first, last = (date.fromisoformat(str(b)) for b in bounds)
        except (TypeError, ValueError):
            return f"{part} (dates unreadable)"
        if first <= day <= last:
            return f"{part} {first}..{last}"
    return None


def spread(cv_entry: dict[str, Any] | None, metric: str) -> float:
    """The sd of the challenger's CV fold scores on `metric`; 0 when CV did not run."""
    sd = ((cv_entry or {}).get(metric) or {}).get("sd")
    return float(sd) if isinstance(sd, (int, float)) and np.isfinite(sd) else 0.0


def judge(
    models_dir: Path,
    data: TrainingSet,
    challenger: dict[str, Any],
    *,
    window: int,
    metric: str,
    cv_spread: float,
    multiplier: float,
    force: bool = False,
) -> Verdict:
    """Compare the challenger's test metrics (`challenger`: its metrics.json test entry) with
    the champion in models_dir/current scored on the same rows (`data.test`)."""
    champion = current_version(models_dir)
    if champion is None:
        return Verdict(True, "first model: no champion in models/current", None)
    day = data.test_date
    try:
        model = load_model(Path(models_dir) / "current", expected=data.spec)
    except ArtifactError as exc:
        return Verdict(
            True, f"champion {champion} cannot be compared ({exc}); promoted on the gate", champion
        )
    theirs = model.metadata.get("label_window_days")
    if theirs is not None and theirs != window:
        return Verdict(
            True,
            f"champion {champion} predicts a {theirs}-day window, this model {window} days: "
            "not comparable; promoted on the gate",
            champion,
        )
    seen = _fitted_on(model.metadata, day)
    if seen is not None:
        unseen = f"champion {champion} was fitted on {day} ({seen}): no date is unseen by both"
        if force:
            return Verdict(True, f"forced (force_promote): {unseen}", champion, str(day))
        return Verdict(False, f"{unseen}; champion kept (force_promote to override)", champion)
    ours = {m: float(challenger[m]) for m in METRICS}
    y = np.asarray(data.y_test)
    theirs_metrics = ranking_metrics(y, model.predict_proba(data.test))
    rule = ChampionMargin(metric, ours[metric], theirs_metrics[metric], cv_spread, multiplier)
    figures = {
        "metric": metric,
        "challenger": ours,
        "champion": theirs_metrics,
        "rows": len(y),
        **{k: v for k, v in rule.as_dict().items() if k in ("difference", "spread", "margin")},
        "multiplier": multiplier,
    }
    name = metric.replace("_", "-").upper()
    sentence = (
        f"{name} {rule.challenger:.4f} vs champion {champion}'s {rule.champion:.4f} on {day}: "
        f"{rule.difference:+.4f}, {'more' if rule.passed else 'not more'} than the margin "
        f"{rule.margin:.4f} ({multiplier:g} x CV sd {cv_spread:.4f})"
    )
    if rule.passed:
        return Verdict(True, f"beat the champion: {sentence}", champion, str(day), figures)
    return Verdict(False, f"champion kept: {sentence}", champion, str(day), figures)
