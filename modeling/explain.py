"""Why did the model say that? Per-customer feature contributions, in the model's own terms.

Each estimator gets the decomposition that is exact for it, computed on the preprocessed
matrix and then summed back to the original features (the one-hot columns of a category and
a number's missing-value indicator belong to that feature):

- XGBoost: TreeSHAP values, XGBoost's own `Booster.predict(pred_contribs=True)`, in log-odds.
- Logistic Regression: coefficient × standardised value, the exact log-odds split of the
  linear score around the training mean (they sum to `decision_function` minus the intercept).
- Random Forest: the tree-path (Saabas) decomposition: along each tree's decision path, the
  change in the positive-class share at every split is credited to the split's feature; the
  average over trees plus the forest's base rate is exactly its uncalibrated probability
  (computed by modeling.forest_paths: scikit-learn's own tree walk costs 200x more a row).

This is the one implementation of each: `explain` (pandas frames) and the serving fast path
(modeling.fast_path, raw rows) both go through `Explainer`. The fast path may swap in only
the XGBoost values computed faster (modeling.treeshap), after proving them equal to these.

Contributions explain the estimator's raw score; the served probability is that score after
the monotone calibrator, so the directions carry over. Any other estimator gets no reasons and
says so (method "not_available") rather than a made-up story.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modeling.forest_paths import forest_paths
from modeling.preprocess import as_model_input

XGBOOST_SHAP = "xgboost_tree_shap"
LINEAR_COEFFICIENTS = "logistic_coef_x_standardized_value"
FOREST_TREE_PATHS = "random_forest_tree_path_saabas"
NOT_AVAILABLE = "not_available"

UNITS = {
    XGBOOST_SHAP: "log_odds",
    LINEAR_COEFFICIENTS: "log_odds",
    FOREST_TREE_PATHS: "probability",
    NOT_AVAILABLE: "none",
}

MISSING = "__missing__"  # what modeling.preprocess.as_model_input feeds for a missing category

Contributions = Callable[[Any, np.ndarray], np.ndarray]  # (estimator, matrix) → per column


@dataclass(frozen=True)
class Reason:
    """One feature's push on one customer's score: > 0 raises it, < 0 lowers it."""

    feature: str
    value: Any
    contribution: float
    direction: str  # "up" or "down"
    method: str
    unit: str


@dataclass(frozen=True)
class Explanation:
    method: str
    unit: str
    reasons: list[Reason]


def method_for(estimator: Any) -> str:
    """The decomposition that is exact for this estimator, or NOT_AVAILABLE."""
    name = type(estimator).__name__
    if name == "XGBClassifier":
        return XGBOOST_SHAP
    if name == "LogisticRegression":
        return LINEAR_COEFFICIENTS
    if name == "RandomForestClassifier":
        return FOREST_TREE_PATHS
    return NOT_AVAILABLE


def column_owners(preprocessor: Any) -> np.ndarray:
    """For each column of the preprocessed matrix, the original feature it came from.

    A ColumnTransformer output column is named after its input ("recency_days"), as a one-hot
    level ("gender_female") or as a missing indicator ("missingindicator_age"); the longest
    input name that fits wins, so "favourite_category_share" never claims a level of
    "favourite_category".
    """
    owners: list[str | None] = [None] * sum(
        s.stop - s.start for s in preprocessor.output_indices_.values()
    )
    names = preprocessor.get_feature_names_out()
    for transformer_name, _, columns in preprocessor.transformers_:
        if transformer_name == "remainder":
            continue
        span = preprocessor.output_indices_[transformer_name]
        candidates = sorted(columns, key=len, reverse=True)
        for index in range(span.start, span.stop):
            out = str(names[index])
            owners[index] = next(
                c
                for c in candidates
                if out == c or out.startswith(f"{c}_") or out == f"missingindicator_{c}"
            )
    return np.asarray(owners, dtype=object)


def iteration_range(estimator: Any) -> tuple[int, int]:
    """The trees XGBClassifier.predict uses: up to the best iteration if it stopped early."""
    if estimator.get_params().get("booster") == "gblinear":
        return 0, 0
    try:
        return 0, int(estimator.best_iteration) + 1
    except AttributeError:  # no early stopping: every tree
        return 0, 0


def _xgboost_contributions(estimator: Any, matrix: np.ndarray) -> np.ndarray:
    from xgboost import DMatrix

    # a one-thread DMatrix: a default one (all cores) is ~10x dearer in CPU per row on a busy
    # 2-core box, and serving runs one request per worker core anyway
    rows = DMatrix(matrix, missing=estimator.missing, nthread=1)
    contributions = estimator.get_booster().predict(
        rows, pred_contribs=True, iteration_range=iteration_range(estimator)
    )
    return contributions[:, :-1]  # the last column is the bias


def _linear_contributions(estimator: Any, matrix: np.ndarray) -> np.ndarray:
    # numbers are standardised by the preprocessor, so coef × value is measured from the mean
    return matrix * estimator.coef_[0]


def _forest_contributions(estimator: Any, matrix: np.ndarray) -> np.ndarray:
    return forest_paths(estimator).contributions(matrix)


CONTRIBUTIONS: dict[str, Contributions] = {
    XGBOOST_SHAP: _xgboost_contributions,
    LINEAR_COEFFICIENTS: _linear_contributions,
    FOREST_TREE_PATHS: _forest_contributions,
}


class Explainer:
    """One loaded model's decomposition, set up once: matrix → per-feature pushes → reasons.

    `by_column` is CONTRIBUTIONS[method] unless the caller passes a faster computation of the
    same numbers (modeling.fast_path passes modeling.treeshap for XGBoost, checked at load).
    """

    def __init__(self, model: Any, by_column: Contributions | None = None) -> None:
        self.estimator = model.estimator
        self.method = method_for(model.estimator)
        self.unit = UNITS[self.method]
        self.names = tuple(model.spec.names)
        self.by_column = by_column or CONTRIBUTIONS.get(self.method)
        self.owner_matrix = np.zeros((0, len(self.names)))
        if self.method == NOT_AVAILABLE:
            return
        # summing one-hot/indicator columns back to their feature: by_column @ owner_matrix
        owners = column_owners(model.preprocessor)
        position = {n: i for i, n in enumerate(self.names)}
        self.owner_matrix = np.zeros((len(owners), len(self.names)))
        for column, owner in enumerate(owners):
            self.owner_matrix[column, position[owner]] = 1.0

    def columns(self, matrix: np.ndarray) -> np.ndarray:
        """Contributions per matrix column (rows × columns)."""
        assert self.by_column is not None, "no decomposition for this estimator"
        return self.by_column(self.estimator, np.asarray(matrix, dtype=np.float64))

    def per_feature(self, matrix: np.ndarray) -> np.ndarray:
        """Contributions per original feature (rows × names), summed in float64."""
        return self.columns(matrix).astype(np.float64) @ self.owner_matrix

    def explain(self, matrix: np.ndarray, values: Any, top: int) -> list[Explanation]:
        """The `top` largest pushes of each row; values[row, i]: the raw input of names[i]."""
        n_rows = matrix.shape[0]
        if self.method == NOT_AVAILABLE or top <= 0 or n_rows == 0:
            return [Explanation(self.method, self.unit, []) for _ in range(n_rows)]
        pushes = self.per_feature(matrix)
        order = np.argsort(-np.abs(pushes), axis=1, kind="stable")[:, :top]
        method, unit, names = self.method, self.unit, self.names
        explanations = []
        for row, columns in enumerate(order.tolist()):
            reasons = []
            for i in columns:
                push = float(pushes[row, i])
                if push == 0:
                    continue
                direction = "up" if push > 0 else "down"
                reasons.append(
                    Reason(names[i], _plain(values[row, i]), push, direction, method, unit)
                )
            explanations.append(Explanation(method, unit, reasons))
        return explanations


def contributions(model: Any, frame: pd.DataFrame) -> tuple[str, pd.DataFrame | None]:
    """(method, contributions per row × original feature), or (NOT_AVAILABLE, None)."""
    explainer = Explainer(model)
    if explainer.method == NOT_AVAILABLE:
        return explainer.method, None
    per_feature = explainer.per_feature(model.matrix(frame))
    return explainer.method, pd.DataFrame(per_feature, columns=explainer.names, index=frame.index)


def explain(model: Any, frame: pd.DataFrame, top: int = 5) -> list[Explanation]:
    """The `top` features with the largest push (up or down) for each row of `frame`.

    model: a modeling.artifact.LoadedModel; frame: raw feature columns as Feast returns them.
    """
    explainer = Explainer(model)
    if explainer.method == NOT_AVAILABLE:
        return explainer.explain(np.zeros((len(frame), 0)), np.zeros((len(frame), 0)), top)
    values = as_model_input(frame, model.spec)[list(explainer.names)].to_numpy(dtype=object)
    return explainer.explain(model.matrix(frame), values, top)


def _plain(value: Any) -> Any:
    """A JSON-friendly value: numbers as float/int, missing as None."""
    if isinstance(value, str):
        return None if value == MISSING else value
    if value is None:
        return None
    number = float(value)
    if math.isnan(number):
        return None
    return int(number) if number.is_integer() else number
