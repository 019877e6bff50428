"""The models compared by `modeling.train`, each a preprocessor plus an estimator.

Class imbalance is handled inside the linear model and the forest (class weights); every
model's probabilities are calibrated afterwards on the validation dates, so the weights change
the ranking the model learns, not the meaning of the probability served.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from xgboost import XGBClassifier

from modeling.dataset import FeatureSpec
from modeling.preprocess import build_preprocessor

NAMES = {"lr": "Logistic Regression", "rf": "Random Forest", "xgb": "XGBoost"}


@dataclass(frozen=True)
class Candidate:
    key: str
    name: str
    scale: bool  # whether its preprocessor imputes and standardises numbers
    make: Callable[[np.ndarray, int], object]  # (y_train, seed) -> unfitted estimator


def _logistic(y: np.ndarray, seed: int) -> LogisticRegression:
    return LogisticRegression(class_weight="balanced", max_iter=2000, C=1.0, random_state=seed)


# Rows each forest tree is grown on: half the training rows, at most this many. On a few
# thousand customers (UCI) that is half of them; on 200,000 customers × 12 as-of dates it
# bounds the forest's cost (200 trees are averaged, so each growing on a 50k-row bootstrap
# rather than 200k costs little in ranking: README, Models).
FOREST_ROWS_PER_TREE = 50_000


def _forest(y: np.ndarray, seed: int) -> RandomForestClassifier:
    return RandomForestClassifier(
        n_estimators=200,
        min_samples_leaf=50,
        max_features="sqrt",
        max_samples=min(0.5, FOREST_ROWS_PER_TREE / max(len(y), 1)),
        class_weight="balanced_subsample",
        n_jobs=2,
        random_state=seed,
    )


def _xgboost(y: np.ndarray, seed: int) -> XGBClassifier:
    # Shallow, slow and regularised: on UCI Online Retail (a few thousand customers per
    # as-of date) depth 3 / min_child_weight 20 / lambda 5 beat depth 5 by ~0.02 ROC-AUC and
    # PR-AUC over four backtest dates; no class weight, as calibration fixes the scale anyway.
    return XGBClassifier(
        n_estimators=300,
        max_depth=3,
        learning_rate=0.03,
        max_bin=128,
        subsample=0.8,
        colsample_bytree=0.8,
        min_child_weight=20,
        reg_lambda=5.0,
        tree_method="hist",
        n_jobs=2,
        random_state=seed,
    )


CANDIDATES = {
    "lr": Candidate("lr", NAMES["lr"], True, _logistic),
    "rf": Candidate("rf", NAMES["rf"], False, _forest),
    "xgb": Candidate("xgb", NAMES["xgb"], False, _xgboost),
}


def fit(key: str, spec: FeatureSpec, x: pd.DataFrame, y: np.ndarray, seed: int):
    """(preprocessor, estimator) of one candidate, both fitted on these rows."""
    candidate = CANDIDATES[key]
    preprocessor = build_preprocessor(spec, scale=candidate.scale)
    estimator = candidate.make(y, seed)
    estimator.fit(preprocessor.fit_transform(x), y)
    return preprocessor, estimator


def raw_proba(preprocessor, estimator, x: pd.DataFrame) -> np.ndarray:
    """The estimator's own (uncalibrated) probability of the positive class."""
    return estimator.predict_proba(preprocessor.transform(x))[:, 1]


def fit_calibrator(raw: np.ndarray, y: np.ndarray) -> IsotonicRegression:
    """Isotonic calibration that keeps the model's ranking (centred isotonic regression).

    Plain isotonic regression is a step function: whole bands of customers get one
    probability, the ranking inside a band is lost, and PR-AUC dropped by ~0.02 on UCI for
    that alone. Here each step's value is placed at the mean raw score of its rows and the
    served mapping interpolates linearly between those points, so it is strictly increasing
    (and as well calibrated as the steps). Beyond the outermost points it keeps a tiny slope
    instead of going flat, for the same reason. The result is still an IsotonicRegression, so
    the artifact and everyone reading it are unchanged.
    """
    steps = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
    order = np.argsort(raw, kind="stable")
    scores, fitted = raw[order], steps.predict(raw[order])
    starts = np.r_[0, np.flatnonzero(np.diff(fitted) != 0) + 1]
    centres = np.add.reduceat(scores, starts) / np.diff(np.r_[starts, len(scores)])
    # a step of 0 or 1 would make its end flat: keep it a hair inside (0, 1)
    values = np.clip(fitted[starts], 1e-4, 1 - 1e-4)
    inside = (centres > 0.0) & (centres < 1.0)
    centres, values = centres[inside], values[inside]
    if len(centres) == 0:  # every row scored 0 or 1: nothing to interpolate
        return steps
    knots_x = np.r_[0.0, centres, 1.0]
    knots_y = np.r_[values[0] * (1 - 1e-3), values, values[-1] + 1e-3 * (1 - values[-1])]
    return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(knots_x, knots_y)
