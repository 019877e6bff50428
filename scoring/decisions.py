"""Tier, verdict, action and reasons in words for whole columns, by the API's own rules.

- The decision: modeling.decision's one rule (`decide_many`, the vectorised `decide`), with the
  rule in force for the model exactly as the API builds it (modeling.decision.rule_for: the model's
  threshold and API_TIER_HIGH or API_TIER_HIGH_TOP_PERCENT over the model's stored score
  percentiles), so a customer's tier here is the tier the customer card shows.
- The reasons: the features with the largest pushes, strongest first (ties in feature order,
  as modeling.explain orders them), never a feature that is the same for every customer on a
  date (modeling.reasons.same_for_everyone), said in the contract's words
  (modeling.reasons.reason_texts, the templates the API uses), every rank of every row in one
  call, so each distinct value of a feature is said once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from modeling.artifact import LoadedModel
from modeling.decision import ACTIONS, DecisionRule, TierSettings, decide_many, rule_for
from modeling.reasons import reason_texts, same_for_everyone


@dataclass(frozen=True)
class Decider:
    rule: DecisionRule

    @classmethod
    def for_model(cls, model: LoadedModel, tiers: TierSettings | None = None) -> Decider:
        return cls(rule_for(model, tiers or TierSettings()))

    def decide(self, probabilities: np.ndarray) -> dict[str, np.ndarray]:
        """tier, will_repeat and action for each (rounded) probability."""
        tiers, will_repeat = decide_many(probabilities, self.rule)
        actions = pd.Series(tiers).map(ACTIONS).to_numpy(dtype=object)
        return {"tier": tiers, "will_repeat": will_repeat, "action": actions}

    @staticmethod
    def reasons(
        names: tuple[str, ...], pushes: np.ndarray | None, frame: pd.DataFrame, top: int
    ) -> list[np.ndarray]:
        """`top` columns of reasons in words; None where fewer features pushed the score."""
        n = len(frame)
        columns = [np.full(n, None, dtype=object) for _ in range(top)]
        if pushes is None or n == 0:
            return columns
        hidden = same_for_everyone()
        strength = np.abs(pushes)
        strength[:, [i for i, name in enumerate(names) if name in hidden]] = 0.0
        strength[np.isnan(strength)] = 0.0  # never a reason, as zero
        # the strongest first, ties in feature order: argmax takes the first of equals, as a
        # stable sort would; a chosen feature is set below any push before the next pick
        rows = np.arange(n)
        picked: list[tuple[np.ndarray, np.ndarray]] = []
        for _ in range(min(top, len(names))):
            feature = np.argmax(strength, axis=1)
            pushed = np.flatnonzero(strength[rows, feature] > 0)
            picked.append((pushed, feature[pushed]))
            strength[rows, feature] = -1.0
        if not picked:
            return columns
        # every (row, rank) said at once: each feature's template meets its rows only once
        texts = np.asarray(
            reason_texts(
                frame,
                np.asarray(names, dtype=object)[np.concatenate([f for _, f in picked])],
                rows=np.concatenate([where for where, _ in picked]),
            ),
            dtype=object,
        )
        start = 0
        for k, (where, _) in enumerate(picked):
            columns[k][where] = texts[start : start + len(where)]
            start += len(where)
        return columns
