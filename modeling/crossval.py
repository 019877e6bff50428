"""Time-honest cross-validation: folds by as-of date, expanding window, never the future.

Fold k validates on as-of date d_k and trains on every earlier date whose label window ended
by d_k, so no training label saw anything after d_k; only dates whose label window ends by
the held-out test date take part, so the test date stays unseen. Reported per model as mean ±
sd of ROC-AUC and PR-AUC. The fold means choose the model (`modeling.selection`): five
later-than-training dates judge more steadily than the single validation date, and the sd says
how much that choice can be trusted.

On large data each fold trains and validates on seeded random samples of at most `max_rows`
rows of its own dates (never rows from other dates): the folds say how stable the comparison
is, and tens of thousands of rows per fold say it about as well as millions, far cheaper.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from tqdm import tqdm

from modeling import candidates
from modeling.baselines import BGNBD_KEY, RECENCY, recency_score
from modeling.bgnbd import BGNBD
from modeling.dataset import LABEL, FeatureSpec, at_most
from modeling.evaluate import ranking_metrics, summarise
from modeling.preprocess import as_model_input


def time_folds(
    dates: list[date], test_date: date, label_window_days: int, folds: int = 5
) -> list[tuple[list[date], date]]:
    """(training dates, validation date) per fold, oldest first; at most `folds` of them.

    A candidate validation date with no earlier date whose window ended by it cannot be a
    fold; with fewer usable dates than `folds` there are as many folds as dates allow.
    """
    window = timedelta(days=label_window_days)
    known = sorted(d for d in set(dates) if d < test_date and d + window <= test_date)
    usable = [([t for t in known if t + window <= d], d) for d in known]
    usable = [(train, d) for train, d in usable if train]
    return usable[-folds:] if folds > 0 else []


def cross_validate(
    frame: pd.DataFrame,
    spec: FeatureSpec,
    models: tuple[str, ...],
    test_date: date,
    label_window_days: int,
    folds: int,
    seed: int,
    max_rows: int | None = None,
) -> dict[str, dict]:
    """Per model and baseline: folds (date, metrics) and mean ± sd of ROC-AUC and PR-AUC."""
    plan = time_folds(sorted(frame["as_of_date"].unique()), test_date, label_window_days, folds)
    per_fold: dict[str, list[dict]] = {k: [] for k in (*models, RECENCY, BGNBD_KEY)}
    steps = tqdm(total=len(plan) * len(models), desc="cross-validation", unit="fit")
    for train_dates, valid_date in plan:
        train = frame[frame["as_of_date"].isin(train_dates)]
        valid = frame[frame["as_of_date"] == valid_date]
        train, valid = (at_most(part, max_rows, seed) for part in (train, valid))
        y_train, y_valid = train[LABEL].to_numpy(), valid[LABEL].to_numpy()
        x_train, x_valid = as_model_input(train, spec), as_model_input(valid, spec)
        scores = {
            RECENCY: recency_score(valid),
            BGNBD_KEY: BGNBD.fit_frame(train, seed=seed).predict_frame(valid, label_window_days),
        }
        for key in models:
            if len(np.unique(y_train)) < 2:
                scores[key] = np.full(len(valid), float(y_train.mean()))
            else:
                fitted = candidates.fit(key, spec, x_train, y_train, seed)
                scores[key] = candidates.raw_proba(*fitted, x_valid)
            steps.update()
        for key, score in scores.items():
            per_fold[key].append(
                {
                    "validation_date": str(valid_date),
                    "train_dates": [str(train_dates[0]), str(train_dates[-1])],
                    "train_rows": len(train),
                    "validation_rows": len(valid),
                    **ranking_metrics(y_valid, score),
                }
            )
    steps.close()
    return {
        key: {
            "folds": rows,
            **{m: summarise([r[m] for r in rows]) for m in ("roc_auc", "pr_auc")},
        }
        for key, rows in per_fold.items()
    }
