"""Step 1 of a training run: the rows every later step uses, loaded and split once.

dbt's labels are joined point-in-time to the FeatureService's features by Feast
(`modeling.dataset`), split by as-of date into train / validation / test, and turned into
model input here, so fitting, baselines, cross-validation and evaluation all read the same
frames and nobody re-derives them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from feature_repo.store import open_store
from modeling.dataset import (
    LABEL,
    FeatureSpec,
    at_most,
    feature_spec,
    load_labels,
    split_by_as_of,
    training_frame,
)
from modeling.preprocess import as_model_input

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingSet:
    """The training frame, its time split, and the model inputs and labels of each part.

    `fit_rows` is the seeded sample of `train` the models are fitted on (all of it when it is
    small); baselines and cross-validation use the whole of `train`.
    """

    spec: FeatureSpec
    frame: pd.DataFrame
    train: pd.DataFrame
    fit_rows: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    x_fit: pd.DataFrame
    x_valid: pd.DataFrame
    x_test: pd.DataFrame
    y_fit: np.ndarray
    y_valid: np.ndarray
    y_test: np.ndarray

    @property
    def test_date(self) -> date:
        return self.test["as_of_date"].iloc[0]


def load(
    labels_path: Path, window: int, feast_data_dir: Path | None
) -> tuple[FeatureSpec, pd.DataFrame]:
    """(feature spec, training frame) from dbt's labels joined point-in-time by Feast."""
    store = open_store(data_dir=feast_data_dir)
    spec = feature_spec(store)
    labels = load_labels(labels_path)
    windows = labels["label_window_days"].unique().tolist()
    if windows != [window]:
        raise SystemExit(
            f"labels were built with a {windows} day window but --label-window is "
            f"{window}; rebuild with `dbt build --vars 'label_window_days: {window}'`"
        )
    log.info("building the training set from Feast (%s labels)", f"{len(labels):,}")
    return spec, training_frame(store, labels)


def split(
    spec: FeatureSpec,
    frame: pd.DataFrame,
    *,
    validation_dates: int,
    window: int,
    test_as_of: date | None,
    max_train_rows: int,
    seed: int,
) -> TrainingSet:
    """Train on the older as-of dates, validate on the next, test on the latest."""
    train, valid, test = split_by_as_of(frame, validation_dates, window, test_as_of)
    # the models fit on a seeded sample of the training rows when there are very many of them
    fit_rows = at_most(train, max_train_rows, seed)
    data = TrainingSet(
        spec,
        frame,
        train,
        fit_rows,
        valid,
        test,
        *(as_model_input(part, spec) for part in (fit_rows, valid, test)),
        *(part[LABEL].to_numpy() for part in (fit_rows, valid, test)),
    )
    log.info(
        "train %s rows (%s → %s; models fit on %s), validation %s rows, test %s rows (as of %s)",
        f"{len(train):,}",
        train["as_of_date"].min(),
        train["as_of_date"].max(),
        f"{len(fit_rows):,}",
        f"{len(valid):,}",
        f"{len(test):,}",
        data.test_date,
    )
    return data
