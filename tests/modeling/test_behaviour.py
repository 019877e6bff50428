"""Behavioural tests of the chosen model (Made-With-ML style): sensible direction of effects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from modeling.artifact import load_model

WINDOWS = (30, 90, 180, 365)  # the rolling windows of orders_*/spend_* features


def _more_recent(frame: pd.DataFrame) -> pd.DataFrame:
    """The same customers with their last order moved later, everything else equal.

    The last order moves at most to the next window boundary, so orders_30d/90d/180d/365d
    stay true; recency_gap_ratio (recency / mean gap) follows recency.
    """
    recency = frame["recency_days"].astype(float)
    floor = np.zeros(len(frame))
    for boundary in WINDOWS:
        floor = np.where(recency > boundary, boundary + 1, floor)
    newer = frame.copy()
    newer["recency_days"] = np.maximum(floor, np.floor(recency / 2)).astype(
        frame["recency_days"].dtype
    )
    gap = frame["mean_gap_days"].astype(float)
    newer["recency_gap_ratio"] = np.where(gap > 0, newer["recency_days"] / gap, np.nan)
    return newer


def test_a_more_recent_last_order_does_not_lower_the_probability_on_average(
    trained_models, warehouse
):
    """Averaged over sample customers, not per customer: a tree model may step the wrong way
    for a few customers (an odd split on a small sample), but the average must not drop —
    the generator's customers buy more the more recently they bought."""
    model = load_model(trained_models / "current")
    features = pd.read_parquet(warehouse.features_dir / "customer_features.parquet")
    latest = features[features["as_of_date"] == features["as_of_date"].max()]
    lapsed = latest[latest["recency_days"] >= 10].head(500)
    newer = _more_recent(lapsed)
    moved = (newer["recency_days"] < lapsed["recency_days"]).to_numpy()
    assert moved.sum() > 100
    before = model.predict_proba(lapsed[moved])
    after = model.predict_proba(newer[moved])
    assert after.mean() >= before.mean() - 1e-3, (after.mean(), before.mean())
