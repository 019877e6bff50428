"""Why did the model say that? Per-customer feature contributions, in the model's own terms.

Each estimator gets the decomposition that is exact for it, computed on the preprocessed
matrix and then summed back to the original features (the one-hot columns of a category and
a number's missing-value indicator belong to that feature):

- XGBoost: TreeSHAP values, the same as the booster's own `pred_contribs` (computed by
  modeling.treeshap, 4x faster), in log-odds.
- Logistic Regression: coefficient × standardised value, the exact log-odds split of the
  linear score around the training mean.
- Random Forest: the tree-path (Saabas) decomposition: along each tree's decision path, the
  change in the positive-class share at every split is credited to the split's feature; the
  average over trees plus the forest's base rate is exactly its uncalibrated probability.

Contributions explain the estimator's raw score; the served probability is that score after
the monotone calibrator, so the directions carry over. Any other estimator gets no reasons and
says so (method "not_available") rather than a made-up story.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from modeling.preprocess import as_model_input
from modeling.treeshap import xgboost_contributions

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


def _xgboost_contributions(model: Any, matrix: np.ndarray) -> np.ndarray:
    return xgboost_contributions(model.estimator, matrix)


def _linear_contributions(model: Any, matrix: np.ndarray) -> np.ndarray:
    # numbers are standardised by the preprocessor, so coef × value is measured from the mean
    return matrix * model.estimator.coef_[0]


# Per forest: a (nodes of all trees × matrix columns) sparse matrix whose row for a node holds
# the change in positive-class share between its parent and it, under the parent's feature.
_forest_deltas: weakref.WeakKeyDictionary[Any, tuple[sparse.csr_matrix, float]] = (
    weakref.WeakKeyDictionary()
)


def _forest_path_deltas(forest: Any, n_columns: int) -> tuple[sparse.csr_matrix, float]:
    cached = _forest_deltas.get(forest)
    if cached is not None:
        return cached
    positive = list(forest.classes_).index(1)
    n_trees = len(forest.estimators_)
    rows, cols, values, base = [], [], [], 0.0
    offset = 0
    for tree in (e.tree_ for e in forest.estimators_):
        shares = tree.value[:, 0, :] / tree.value[:, 0, :].sum(axis=1, keepdims=True)
        share = shares[:, positive]
        base += share[0] / n_trees
        for children in (tree.children_left, tree.children_right):
            parents = np.flatnonzero(children >= 0)
            kids = children[parents]
            rows.append(offset + kids)
            cols.append(tree.feature[parents])
            values.append((share[kids] - share[parents]) / n_trees)
        offset += tree.node_count
    deltas = sparse.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
        shape=(offset, n_columns),
    )
    _forest_deltas[forest] = (deltas, base)
    return deltas, base


def _forest_contributions(model: Any, matrix: np.ndarray) -> np.ndarray:
    deltas, _ = _forest_path_deltas(model.estimator, matrix.shape[1])
    paths, _ = model.estimator.decision_path(matrix)
    return np.asarray((paths @ deltas).todense())


CONTRIBUTIONS = {
    XGBOOST_SHAP: _xgboost_contributions,
    LINEAR_COEFFICIENTS: _linear_contributions,
    FOREST_TREE_PATHS: _forest_contributions,
}


def contributions(model: Any, frame: pd.DataFrame) -> tuple[str, pd.DataFrame | None]:
    """(method, contributions per row × original feature), or (NOT_AVAILABLE, None)."""
    method = method_for(model.estimator)
    if method == NOT_AVAILABLE:
        return method, None
    matrix = model.matrix(frame)
    by_column = CONTRIBUTIONS[method](model, np.asarray(matrix, dtype=np.float64))
    owners = column_owners(model.preprocessor)
    per_feature = pd.DataFrame(by_column, columns=owners, index=frame.index)
    per_feature = per_feature.T.groupby(level=0, sort=False).sum().T
    return method, per_feature[list(model.spec.names)]


def explain(model: Any, frame: pd.DataFrame, top: int = 5) -> list[Explanation]:
    """The `top` features with the largest push (up or down) for each row of `frame`.

    model: a modeling.artifact.LoadedModel; frame: raw feature columns as Feast returns them.
    """
    method, per_feature = contributions(model, frame)
    unit = UNITS[method]
    if per_feature is None:
        return [Explanation(method, unit, []) for _ in range(len(frame))]
    names = list(per_feature.columns)
    pushes = per_feature.to_numpy(dtype=np.float64)
    values = as_model_input(frame, model.spec)[names].to_numpy(dtype=object)
    top_columns = np.argsort(-np.abs(pushes), axis=1, kind="stable")[:, :top]
    explanations = []
    for row, columns in enumerate(top_columns):
        reasons = [
            Reason(
                feature=names[i],
                value=_plain(values[row, i]),
                contribution=float(pushes[row, i]),
                direction="up" if pushes[row, i] > 0 else "down",
                method=method,
                unit=unit,
            )
            for i in columns
            if pushes[row, i] != 0
        ]
        explanations.append(Explanation(method, unit, reasons))
    return explanations


def _plain(value: Any) -> Any:
    """A JSON-friendly value: numbers as float/int, missing as None."""
    if isinstance(value, str):
        return None if value == "__missing__" else value
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    number = float(value)
    return int(number) if number.is_integer() else number
