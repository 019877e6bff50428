"""Segment bands in words (aov_band, orders_band, recency_band), vectorised over a chunk.

The bands are the dbt var ``segment_bands`` (read through ingest.dbt_vars), the same one the
segment_repeat_rates mart renders into SQL, so a scored customer's "over ₹30,000" is the
insights page's "over ₹30,000". A band holds values ``up_to`` (<=) or ``below`` (<) its bound,
the last band every other known value; a missing value is "unknown", as in the mart.
"""

from __future__ import annotations

import numpy as np

from ingest.dbt_vars import segment_bands

UNKNOWN = "unknown"

# schema column → the feature it bands
BANDED = {
    "aov_band": "avg_order_value",
    "orders_band": "orders_count",
    "recency_band": "recency_days",
}


def band_labels(column: str, values: np.ndarray) -> np.ndarray:
    """The band words for each value of `column` (float array, NaN for missing)."""
    bands = segment_bands()[column]
    known = ~np.isnan(values)
    conditions, labels = [], []
    with np.errstate(invalid="ignore"):
        for band in bands:
            if "up_to" in band:
                conditions.append(known & (values <= band["up_to"]))
            elif "below" in band:
                conditions.append(known & (values < band["below"]))
            else:
                conditions.append(known)
            labels.append(band["label"])
    return np.select(conditions, np.asarray(labels, dtype=object), default=UNKNOWN)
