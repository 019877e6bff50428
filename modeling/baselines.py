"""Step 3 of a training run: what the models are judged against, on the same rows.

Recency alone (more recent = more likely to buy again; the promotion gate's bar), BG/NBD
fitted on the same training rows, and, on sample data, the oracle: the generator's true
probability. Each is scored once; metrics.json, the gate and the report all read that score.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.dbt_vars import label_window_days
from modeling.bgnbd import BGNBD
from modeling.dataset import LABEL
from modeling.evaluate import best_f1_threshold, probability_metrics, ranking_metrics
from modeling.training_set import TrainingSet

log = logging.getLogger(__name__)

RECENCY = "recency"
BGNBD_KEY = "bgnbd"


def recency_score(frame: pd.DataFrame) -> np.ndarray:
    """The recency baseline's score: fewer days since the last order ranks higher."""
    return -frame["recency_days"].to_numpy(float)


@dataclass(frozen=True)
class Reference:
    """A baseline or the oracle: its metrics.json entry and its test scores (for the report)."""

    entry: dict
    test_scores: np.ndarray

    @property
    def name(self) -> str:
        return self.entry["name"]


def fit_baselines(data: TrainingSet, window: int, seed: int) -> dict[str, Reference]:
    """Recency and BG/NBD, each scored on the validation and test dates."""
    recency_test = recency_score(data.test)
    bgnbd = BGNBD.fit_frame(data.train, seed=seed)
    bg_valid = bgnbd.predict_frame(data.valid, window)
    bg_test = bgnbd.predict_frame(data.test, window)
    bg_threshold = best_f1_threshold(data.y_valid, bg_valid)
    return {
        RECENCY: Reference(
            {
                "name": "Baseline: recency only (more recent = more likely)",
                "validation": ranking_metrics(data.y_valid, recency_score(data.valid)),
                "test": ranking_metrics(data.y_test, recency_test),
            },
            recency_test,
        ),
        BGNBD_KEY: Reference(
            {
                "name": f"Baseline: BG/NBD, P(≥1 purchase in {window} d)",
                "validation": probability_metrics(data.y_valid, bg_valid, bg_threshold),
                "test": probability_metrics(data.y_test, bg_test, bg_threshold),
                "parameters": bgnbd.as_dict(),
            },
            bg_test,
        ),
    }


def oracle(path: Path | None, test: pd.DataFrame, window: int) -> Reference | None:
    """The generator's true probability scored on the test rows, when it covers them all (the
    generator computes it over dbt's label window, so a training run on another window has none)."""
    if path is None or not Path(path).exists() or window != label_window_days():
        return None
    # only the test rows' dates: the whole history is one row per customer and as-of date
    dates = sorted(test["as_of_date"].unique())
    truth = pd.read_parquet(
        path,
        columns=["customer_id", "as_of_date", "p_repeat_30d"],
        filters=[("as_of_date", "in", dates)],
    )
    truth["as_of_date"] = pd.to_datetime(truth["as_of_date"]).dt.date
    merged = test[["customer_id", "as_of_date", LABEL]].merge(
        truth, on=["customer_id", "as_of_date"], how="left"
    )
    if len(merged) != len(test) or merged["p_repeat_30d"].isna().any():
        log.warning("ground truth %s does not cover the test rows: no oracle", path)
        return None
    y, p = merged[LABEL].to_numpy(), merged["p_repeat_30d"].to_numpy(float)
    entry = {
        "name": "Oracle (the generator's true probability)",
        "source": str(path),
        "test": {**ranking_metrics(y, p), "brier": float(np.mean((p - y) ** 2)), "rows": len(y)},
    }
    return Reference(entry, p)
