"""Feature importance for the report: the estimator's own, and permutation on the test rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tqdm import tqdm

from modeling.candidates import raw_proba
from modeling.dataset import FeatureSpec
from modeling.evaluate import ranking_metrics
from modeling.explain import column_owners


def native_importance(preprocessor, estimator, spec: FeatureSpec) -> pd.Series:
    """The estimator's own importance summed back to the original features, as shares."""
    if hasattr(estimator, "feature_importances_"):
        values = np.asarray(estimator.feature_importances_, dtype=float)
    else:  # linear: |coefficient| of standardised inputs
        values = np.abs(np.asarray(estimator.coef_[0], dtype=float))
    per_feature = pd.Series(values, index=column_owners(preprocessor)).groupby(level=0).sum()
    per_feature = per_feature.reindex(list(spec.names), fill_value=0.0)
    total = per_feature.sum()
    return per_feature / total if total > 0 else per_feature


def permutation_importance(
    preprocessor, estimator, x: pd.DataFrame, y: np.ndarray, rows: int, seed: int
) -> pd.DataFrame:
    """Drop in PR-AUC when one feature's column is shuffled (3 repeats) on the test rows."""
    rng = np.random.default_rng(seed)
    if len(x) > rows:
        keep = np.sort(rng.choice(len(x), rows, replace=False))
        x, y = x.iloc[keep].reset_index(drop=True), y[keep]
    base = ranking_metrics(y, raw_proba(preprocessor, estimator, x))["pr_auc"]
    out = []
    for name in tqdm(list(x.columns), desc="permutation importance", unit="feature"):
        drops = []
        for _ in range(3):
            shuffled = x.copy()
            shuffled[name] = rng.permutation(shuffled[name].to_numpy())
            score = raw_proba(preprocessor, estimator, shuffled)
            drops.append(base - ranking_metrics(y, score)["pr_auc"])
        out.append({"feature": name, "mean": float(np.mean(drops)), "sd": float(np.std(drops))})
    return pd.DataFrame(out)
