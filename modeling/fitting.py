"""Step 2 of a training run: fit each candidate, calibrate it and choose its threshold.

Each model is fitted on the training rows, calibrated (isotonic) and given the F1-best
threshold on the validation dates, then scored on the test date, which neither step saw.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from modeling import candidates
from modeling.candidates import CANDIDATES, fit_calibrator, raw_proba
from modeling.evaluate import best_f1_threshold, probability_metrics
from modeling.training_set import TrainingSet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FittedModel:
    """One candidate fitted, with its test scores and its metrics.json entry."""

    key: str
    preprocessor: Any
    estimator: Any
    calibrator: Any
    threshold: float
    raw_test: np.ndarray  # the estimator's own test probabilities, before calibration
    test_proba: np.ndarray  # calibrated
    entry: dict  # name, validation and test metrics, fit_seconds (cv is added later)

    @property
    def name(self) -> str:
        return CANDIDATES[self.key].name


def fit_model(key: str, data: TrainingSet, seed: int, selection_metric: str) -> FittedModel:
    started = time.perf_counter()
    preprocessor, estimator = candidates.fit(key, data.spec, data.x_fit, data.y_fit, seed)
    raw_valid = raw_proba(preprocessor, estimator, data.x_valid)
    calibrator = fit_calibrator(raw_valid, data.y_valid)
    proba_valid = calibrator.predict(raw_valid)
    threshold = best_f1_threshold(data.y_valid, proba_valid)
    raw_test = raw_proba(preprocessor, estimator, data.x_test)
    test_proba = calibrator.predict(raw_test)
    entry = {
        "name": CANDIDATES[key].name,
        "validation": probability_metrics(data.y_valid, proba_valid, threshold),
        "test": probability_metrics(data.y_test, test_proba, threshold),
        "fit_seconds": round(time.perf_counter() - started, 2),
    }
    log.info(
        "%s: validation %s %.4f, test ROC-AUC %.4f PR-AUC %.4f",
        entry["name"],
        selection_metric,
        entry["validation"][selection_metric],
        entry["test"]["roc_auc"],
        entry["test"]["pr_auc"],
    )
    return FittedModel(
        key, preprocessor, estimator, calibrator, threshold, raw_test, test_proba, entry
    )
