"""sample_training_report: a training report (models/<version>/report.html and its PNGs)
written by modeling.report from made-up scores, for tests of the page itself (how it fits a
screen: tests/web/test_reports.py) that need no pipeline. The report of a real
training run on the session's sample: tests/conftest.py trained_models, read by
tests/modeling/test_report.py."""

from __future__ import annotations

from pathlib import Path

# the feature service's names (metadata.json "features"): long ones make the importance plots
# and the tables as wide as a real report's
SAMPLE_FEATURES = (
    "recency_days", "tenure_days", "orders_count", "purchase_days", "total_spend",
    "avg_order_value", "orders_per_month", "spend_per_day", "orders_30d", "spend_30d",
    "orders_90d", "spend_90d", "orders_365d", "spend_365d", "orders_trend_90d",
    "mean_gap_days", "std_gap_days", "recency_gap_ratio", "returns_count",
    "distinct_categories", "favourite_category", "favourite_category_share",
    "preferred_payment_method", "weekend_order_share", "holiday_order_share",
    "days_to_next_holiday", "is_festival_season", "days_since_signup",
)  # fmt: skip
CATEGORIES = ("beauty", "books", "electronics", "fashion", "grocery", "home", "sports", "toys")


def sample_training_report(directory: Path, customers: int = 2000) -> Path:
    """report.html and its PNGs as `python -m modeling` writes them (modeling.report's
    write_report, metrics by modeling.evaluate as train.py computes them), from made-up scores
    on a validation and a test date: the three default models, both baselines and the oracle
    under their real names, four confusion matrices, the four slicings, every plot; in seconds.
    Returns the HTML path."""
    import numpy as np
    import pandas as pd

    from modeling.candidates import NAMES
    from modeling.evaluate import (
        best_f1_threshold,
        probability_metrics,
        ranking_metrics,
        slice_metrics,
        summarise,
    )
    from modeling.report import ReportData, write_report

    rng = np.random.default_rng(11)

    def day() -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
        truth = rng.beta(2, 4, customers)
        frame = pd.DataFrame({
            "favourite_category": rng.choice(CATEGORIES, customers),
            "total_spend": rng.gamma(2.0, 300.0, customers),
            "tenure_days": rng.integers(0, 1500, customers),
            "orders_count": rng.integers(1, 30, customers),
            "recency_days": rng.integers(0, 365, customers) * (1.2 - truth),
        })  # fmt: skip
        return truth, (rng.random(customers) < truth).astype(int), frame

    def noisy(truth: np.ndarray, sd: float) -> np.ndarray:
        return np.clip(truth + rng.normal(0, sd, len(truth)), 0.001, 0.999)

    def cv(base: float) -> dict:
        folds = base + rng.normal(0, 0.01, 5)
        return {"roc_auc": summarise(list(folds)), "pr_auc": summarise(list(folds - 0.1))}

    (truth_v, y_v, valid_frame), (truth, y, test) = day(), day()
    models, scores = {}, {}
    for key, sd in (("lr", 0.16), ("rf", 0.12), ("xgb", 0.09)):
        valid, proba = noisy(truth_v, sd), noisy(truth, sd)
        threshold = best_f1_threshold(y_v, valid)
        models[key] = {
            "name": NAMES[key],
            "validation": probability_metrics(y_v, valid, threshold),
            "test": probability_metrics(y, proba, threshold),
            "cv": cv(0.87 - sd / 4),
        }
        scores[NAMES[key]] = proba
    bgnbd_v, bgnbd = noisy(truth_v, 0.11), noisy(truth, 0.11)
    bgnbd_threshold = best_f1_threshold(y_v, bgnbd_v)
    recency = -test["recency_days"].to_numpy(float)
    baselines = {
        "recency": {
            "name": "Baseline: recency only (more recent = more likely)",
            "validation": ranking_metrics(y_v, -valid_frame["recency_days"].to_numpy(float)),
            "test": ranking_metrics(y, recency),
            "cv": cv(0.78),
        },
        "bgnbd": {
            "name": "Baseline: BG/NBD, P(≥1 purchase in 30 d)",
            "validation": probability_metrics(y_v, bgnbd_v, bgnbd_threshold),
            "test": probability_metrics(y, bgnbd, bgnbd_threshold),
            "cv": cv(0.86),
        },
    }
    oracle = {
        "name": "Oracle (the generator's true probability)",
        "test": {**ranking_metrics(y, truth), "brier": float(np.mean((truth - y) ** 2))},
    }
    scores[baselines["recency"]["name"]] = recency
    scores[baselines["bgnbd"]["name"]] = bgnbd
    scores[oracle["name"]] = truth
    chosen = models["xgb"]
    metrics = {
        "selection_metric": "pr_auc", "chosen_on": "cv", "chosen": "xgb", "models": models,
        "baselines": baselines, "oracle": oracle,
        "gate": {"rule": "chosen model's test pr_auc > recency baseline's", "passed": True},
    }  # fmt: skip
    importance = rng.dirichlet(np.linspace(3, 0.2, len(SAMPLE_FEATURES)))
    drops = np.sort(rng.exponential(0.01, len(SAMPLE_FEATURES)))[::-1]
    data = ReportData(
        version="20251201T120000Z-xgb",
        test_as_of="2025-12-01",
        chosen="xgb",
        metrics=metrics,
        y_test=y,
        test_scores=scores,
        chosen_raw=scores[chosen["name"]] ** 0.6,  # before calibration: too high
        confusion={
            **{m["name"]: m["test"]["confusion_matrix"] for m in models.values()},
            "BG/NBD": baselines["bgnbd"]["test"]["confusion_matrix"],
        },
        native_importance=pd.Series(importance, index=list(SAMPLE_FEATURES)),
        permutation_importance=pd.DataFrame(
            {"feature": SAMPLE_FEATURES, "mean": drops, "sd": drops / 4}
        ),
        slices=slice_metrics(test, y, scores[chosen["name"]], chosen["test"]["threshold"]),
    )
    directory.mkdir(parents=True, exist_ok=True)
    return write_report(directory, data)
