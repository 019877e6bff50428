"""Metrics and threshold choice, the same for every model and baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
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
    """The probability cut that maximises F1 on these rows (chosen on validation only).

    Predicted positive = proba >= cut. Counted for every candidate cut at once from the
    sorted scores (the same F1 as scoring each cut separately, ~1000× faster on 200k rows).
    """
    y = np.asarray(y).astype(bool)
    proba = np.asarray(proba, dtype=float)
    candidates = np.unique(np.round(proba, 4))
    if len(candidates) > 400:
        candidates = np.quantile(proba, np.linspace(0.01, 0.99, 199))
    order = np.sort(proba)
    positives = np.sort(proba[y])
    predicted = len(order) - np.searchsorted(order, candidates, side="left")
    true_pos = len(positives) - np.searchsorted(positives, candidates, side="left")
    denominator = predicted + len(positives)  # 2TP + FP + FN = predicted + actual positives
    scores = np.where(denominator > 0, 2 * true_pos / np.maximum(denominator, 1), 0.0)
    return float(candidates[int(np.argmax(scores))])


def summarise(values: list[float]) -> dict[str, float]:
    """Mean and sample standard deviation (0 for a single value) of finite values."""
    finite = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if len(finite) == 0:
        return {"mean": float("nan"), "sd": float("nan"), "n": 0}
    sd = float(finite.std(ddof=1)) if len(finite) > 1 else 0.0
    return {"mean": float(finite.mean()), "sd": sd, "n": len(finite)}


TENURE_BUCKETS = ([-np.inf, 90, 365, 730, np.inf], ["< 90 d", "90–364 d", "1–2 y", "≥ 2 y"])
ORDER_BUCKETS = ([-np.inf, 1, 3, 10, np.inf], ["1 order", "2–3", "4–10", "> 10"])


def slice_columns(frame: pd.DataFrame, top_categories: int = 8) -> dict[str, pd.Series]:
    """The slices evaluation is broken down by, one label per row for each slicing."""
    category = frame["favourite_category"].astype("object").fillna("(unknown)").astype(str)
    common = category.value_counts().index[:top_categories]
    spend = pd.to_numeric(frame["total_spend"], errors="coerce")
    ranks = spend.rank(method="first", pct=True)
    tiers = pd.cut(ranks, [0, 0.25, 0.5, 0.75, 1.0], labels=["Q1 (lowest)", "Q2", "Q3", "Q4"])
    return {
        "favourite_category": category.where(category.isin(common), "(other)"),
        "tenure": pd.cut(
            pd.to_numeric(frame["tenure_days"], errors="coerce"),
            TENURE_BUCKETS[0],
            labels=TENURE_BUCKETS[1],
            right=False,
        ).astype(str),
        "orders_count": pd.cut(
            pd.to_numeric(frame["orders_count"], errors="coerce"),
            ORDER_BUCKETS[0],
            labels=ORDER_BUCKETS[1],
        ).astype(str),
        "spend_tier": tiers.astype(str),
    }


def slice_metrics(
    frame: pd.DataFrame, y: np.ndarray, proba: np.ndarray, threshold: float
) -> dict[str, list[dict]]:
    """Per slice: rows, observed and predicted positive rate, ROC-AUC, PR-AUC, F1."""
    out: dict[str, list[dict]] = {}
    for slicing, labels in slice_columns(frame).items():
        rows = []
        for value in sorted(labels.unique()):
            mask = (labels == value).to_numpy()
            ys, ps = y[mask], proba[mask]
            rows.append(
                {
                    "slice": value,
                    "rows": int(mask.sum()),
                    "positive_rate": float(ys.mean()),
                    "mean_probability": float(ps.mean()),
                    **ranking_metrics(ys, ps),
                    "f1": float(f1_score(ys, (ps >= threshold).astype(int), zero_division=0)),
                }
            )
        out[slicing] = rows
    return out
