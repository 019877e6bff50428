"""Step 5 of a training run: choose one model, and decide whether it may be promoted.

The choice is made on data the test date never saw (cross-validation folds, or the
validation date); the gate then asks the test date whether the chosen model beats the
recency baseline. Only a model that does may be promoted to models/current, and then only if
it also beats the model already there (the champion) by more than the noise of the choice:
`ChampionMargin`, on a date neither model was fitted on (modeling.champion finds the date and
scores the champion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def choose_model(results: dict[str, dict], metric: str, choose_on: str) -> tuple[str, str]:
    """(model key, what chose it): the best CV fold mean of `metric`, else validation's.

    Falls back to the validation date when CV was off or produced no finite mean for some
    model (too few labelled dates for a fold), so a choice is always made on the same footing
    for every model.
    """
    if choose_on == "cv":
        means = {k: r.get("cv", {}).get(metric, {}).get("mean", np.nan) for k, r in results.items()}
        if all(np.isfinite(v) for v in means.values()):
            return max(means, key=means.__getitem__), "cv"
    return max(results, key=lambda k: results[k]["validation"][metric]), "validation"


@dataclass(frozen=True)
class Gate:
    """The chosen model's test score against the recency baseline's, on the same metric."""

    metric: str
    chosen: float
    recency_baseline: float

    @property
    def passed(self) -> bool:
        return bool(self.chosen > self.recency_baseline)

    def as_dict(self) -> dict:
        return {
            "rule": f"chosen model's test {self.metric} > recency baseline's",
            "chosen": self.chosen,
            "recency_baseline": self.recency_baseline,
            "passed": self.passed,
        }


@dataclass(frozen=True)
class ChampionMargin:
    """The challenger's score against the champion's on the same rows, and the margin it needs.

    `spread` is the sd of the challenger's cross-validation fold scores on `metric`: how much
    the figure of one model moves from one date to the next. A challenger ahead by less than
    `multiplier` × that is not shown to be better, and replacing the model in production on
    noise would make the served scores jump for nothing. multiplier 0 = any improvement.
    """

    metric: str
    challenger: float
    champion: float
    spread: float
    multiplier: float

    @property
    def margin(self) -> float:
        return self.multiplier * self.spread

    @property
    def difference(self) -> float:
        return self.challenger - self.champion

    @property
    def passed(self) -> bool:
        return bool(self.difference > self.margin)

    def as_dict(self) -> dict:
        return {
            "rule": f"challenger's {self.metric} - champion's > multiplier x CV sd",
            "challenger": self.challenger,
            "champion": self.champion,
            "difference": self.difference,
            "spread": self.spread,
            "multiplier": self.multiplier,
            "margin": self.margin,
            "passed": self.passed,
        }
