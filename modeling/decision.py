"""The one rule from a probability to tier, verdict and action (API and batch scorer alike).

Tiers follow the verdict, so no answer can say "medium tier" and "not likely to buy again":

- high:   p ≥ max(threshold, high cut-off)  → likely to buy again, among the most likely
- medium: threshold ≤ p < high cut-off       → likely to buy again, less sure
- low:    p < threshold                      → not likely to buy again soon

`threshold` is the model's own (chosen on validation data at training time, in its metadata).
The high cut-off is a probability, or a capacity ("the top N %") turned into a probability
from a score distribution: the batch scorer passes every customer's score, the API the
quantiles stored with the model. A high cut-off at or below the threshold leaves no medium tier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from modeling.artifact import LoadedModel

TIERS = ("high", "medium", "low")
ACTIONS = {
    "high": "Likely to buy again, among the most likely: reward programmes and premium offers.",
    "medium": "Likely to buy again, less sure: a targeted campaign to secure the next order.",
    "low": "Not likely to buy again soon: a strong win-back incentive.",
}
VERDICTS = {True: "Likely to buy again", False: "Not likely to buy again"}


@dataclass(frozen=True)
class Decision:
    tier: str
    will_repeat: bool
    action: str
    explanation: str


@dataclass(frozen=True)
class DecisionRule:
    """Cut-offs in force: `threshold` (likely or not) and `high` (≥ threshold, the high tier)."""

    threshold: float
    high: float
    top_percent: float | None = None  # set when `high` was derived from a capacity

    @property
    def sentence(self) -> str:
        """The rule in one sentence, as /model, the card and the README state it."""
        t, h = _pct(self.threshold), _pct(self.high)
        source = (
            f" (the top {self.top_percent:g} % of scores)" if self.top_percent is not None else ""
        )
        if self.high <= self.threshold:
            return (
                f"At or above the model's threshold {t}: high tier, likely to buy again; "
                f"below it: low tier, not likely to buy again{source}."
            )
        return (
            f"At or above {h}{source}: high tier, likely to buy again; "
            f"from the model's threshold {t} up to {h}: medium tier, likely to buy again; "
            f"below {t}: low tier, not likely to buy again."
        )

    def as_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "high_cutoff": self.high,
            "high_top_percent": self.top_percent,
            "sentence": self.sentence,
        }


def _pct(p: float) -> str:
    return f"{p * 100:.1f} %"


def capacity_cutoff(top_percent: float, scores: Sequence[float] | np.ndarray) -> float:
    """The probability at which the top `top_percent` % of `scores` start.

    `scores` is a score distribution: every customer's probability, or evenly spaced
    quantiles of one (e.g. the 101 percentiles stored with the model)."""
    values = np.asarray(scores, dtype=np.float64)
    if not 0 < top_percent < 100:
        raise ValueError(f"top_percent must be in (0, 100), got {top_percent}")
    if values.size == 0:
        raise ValueError("a capacity cut-off needs a score distribution")
    return float(np.quantile(values, 1 - top_percent / 100))


def decision_rule(
    threshold: float,
    high: float,
    top_percent: float | None = None,
    scores: Sequence[float] | np.ndarray | None = None,
) -> DecisionRule:
    """The rule for a model threshold and a high cut-off given by probability (`high`) or by
    capacity (`top_percent` of `scores`; without scores, the probability cut-off is kept)."""
    if top_percent is not None and scores is not None and len(scores):
        cut = round(capacity_cutoff(top_percent, scores), 6)
        return DecisionRule(threshold, max(threshold, cut), top_percent)
    return DecisionRule(threshold, max(threshold, high))


def decide(probability: float, rule: DecisionRule) -> Decision:
    """Tier, verdict, action and a sentence saying why, for one probability."""
    tier = (
        "high" if probability >= rule.high else "medium" if probability >= rule.threshold else "low"
    )
    likely = tier != "low"
    p, t, h = _pct(probability), _pct(rule.threshold), _pct(rule.high)
    if tier == "high":
        why = f"{p} is at or above the high cut-off {h}"
    elif tier == "medium":
        why = f"{p} is at or above the model's threshold {t} and below the high cut-off {h}"
    else:
        why = f"{p} is below the model's threshold {t}"
    return Decision(tier, likely, ACTIONS[tier], f"{VERDICTS[likely]}: {why} ({tier} tier).")


def decide_many(probabilities: np.ndarray, rule: DecisionRule) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised `decide` for a million rows: (tier as object array, will_repeat as bool).
    Actions are `ACTIONS[tier]` (map the tier column; it has three values)."""
    p = np.asarray(probabilities, dtype=np.float64)
    tiers = np.where(p >= rule.high, "high", np.where(p >= rule.threshold, "medium", "low"))
    return tiers.astype(object), p >= rule.threshold


class TierSettings(BaseSettings):
    """The business cut-offs of the rule, read from the same API_* variables by the API (whose
    Settings extends this class) and the batch scorer, so a customer's tier in the score file
    is the tier the customer card shows."""

    model_config = SettingsConfigDict(env_prefix="API_", env_file=".env", extra="ignore")

    tier_high: float = Field(default=0.6, gt=0, le=1)
    # when set, the high tier is the top N % of scores instead (overrides tier_high)
    tier_high_top_percent: float | None = Field(default=None, gt=0, lt=100)


def rule_for(model: LoadedModel, tiers: TierSettings) -> DecisionRule:
    """The decision rule in force for this model: its threshold, and the high cut-off from
    API_TIER_HIGH, or from API_TIER_HIGH_TOP_PERCENT over the validation scores' percentiles
    stored with the model (an older model without them keeps API_TIER_HIGH)."""
    quantiles = model.metadata.get("score_quantiles")
    return _rule(
        round(model.threshold, 6),
        tiers.tier_high,
        tiers.tier_high_top_percent,
        tuple(quantiles) if isinstance(quantiles, list) else None,
    )


_RULES: dict[tuple, DecisionRule] = {}


def _rule(threshold: float, high: float, top: float | None, scores: tuple | None) -> DecisionRule:
    key = (threshold, high, top, scores)
    if key not in _RULES:
        _RULES.clear()  # one model at a time: keep only the rule in force
        _RULES[key] = decision_rule(threshold, high, top, scores)
    return _RULES[key]
