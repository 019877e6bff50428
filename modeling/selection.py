"""Step 5 of a training run: choose one model, and decide whether it may be promoted.

The choice is made on data the test date never saw (cross-validation folds, or the
validation date); the gate then asks the test date whether the chosen model beats the
recency baseline. Only a model that does is promoted to models/current.
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
