"""Metrics and threshold choice, the same for every model and baseline."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)


def ranking_metrics(y: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """Threshold-free metrics; valid for any score that orders customers."""
    if len(np.unique(y)) < 2:
        return {"roc_auc": float("nan"), "pr_auc": float("nan")}
    return {
        "roc_auc": float(roc_auc_score(y, score)),
        "pr_auc": float(average_precision_score(y, score)),
    }


def probability_metrics(y: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, object]:
    """Everything reported for a probability model at its chosen threshold."""
    predicted = (proba >= threshold).astype(int)
    clipped = np.clip(proba, 1e-6, 1 - 1e-6)
    tn, fp, fn, tp = confusion_matrix(y, predicted, labels=[0, 1]).ravel()
    return {
        **ranking_metrics(y, proba),
        "f1": float(f1_score(y, predicted, zero_division=0)),
        "precision": float(precision_score(y, predicted, zero_division=0)),
        "recall": float(recall_score(y, predicted, zero_division=0)),
        "brier": float(brier_score_loss(y, proba)),
        "log_loss": float(log_loss(y, clipped, labels=[0, 1])),
        "threshold": float(threshold),
        "positive_rate": float(y.mean()),
        "confusion_matrix": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
        "rows": len(y),
    }


def best_f1_threshold(y: np.ndarray, proba: np.ndarray) -> float:
    """The probability cut that maximises F1 on these rows (chosen on validation only)."""
    candidates = np.unique(np.round(proba, 4))
    if len(candidates) > 400:
        candidates = np.quantile(proba, np.linspace(0.01, 0.99, 199))
    scores = [f1_score(y, (proba >= t).astype(int), zero_division=0) for t in candidates]
    return float(candidates[int(np.argmax(scores))])
