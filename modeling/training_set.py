"""Step 1 of a training run: the rows every later step uses, sampled, joined and split once.

dbt's labels are split by as-of date into train / validation / test, each part is sampled to
its cap (`modeling.sampling`: stratified by date, seeded) while the labels are still compact
Arrow columns, and only the sampled rows are joined point-in-time to the FeatureService's
features by Feast (`modeling.dataset`), in one join. Before that join the step's peak memory
is estimated from the row counts and the run refuses, naming the knobs, when it would not fit.
Fitting, baselines, cross-validation, evaluation, slices and importance all read the frames
made here, so nobody re-derives them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from feature_repo.store import open_store
from ingest.memory import GB, refuse_unless_fits
from modeling.dataset import (
    LABEL,
    FeatureSpec,
    as_entity_rows,
    at_most,
    count_labels,
    feature_spec,
    read_labels,
    split_dates,
    split_on,
    training_frame,
)
from modeling.preprocess import as_model_input
from modeling.sampling import Sampling, as_of_days, sample_parts, to_date
from modeling.settings import TrainSettings

log = logging.getLogger(__name__)

ENTITY_COLUMNS = ["customer_id", "event_timestamp", "as_of_date", LABEL]
# The training step's peak: the interpreter and libraries, plus per joined cell (entity row ×
# column) the Feast join's Arrow result, the frame, the model inputs and their copies, plus
# the Arrow label table. Fitted to the peaks in tests/modeling/test_memory_guard.py
# (MEASURED_PEAKS: 200,000 to 3,000,000 customers, see docs/PERFORMANCE.md): the first fit,
# 70 bytes a cell from 200,000 customers alone, was 1.2x low at 1M (7.6 GB for 9.11). The
# feature mart's size (3x from 1M to 3M) moved the peak by 0.35 GB only: Feast's DuckDB join
# streams it, so it has no term. These constants sit above every point, by at most 1.6x:
# refusing needlessly is the lesser harm.
BASE_BYTES = 1.0 * GB
BYTES_PER_CELL = 95
BYTES_PER_LABEL_ROW = 60
KNOBS = (
    "Sample fewer rows before the join: --max-train-rows (TRAIN_MAX_TRAIN_ROWS) and "
    "--max-eval-rows (TRAIN_MAX_EVAL_ROWS, per validation and test part); or, if this "
    "machine really has the memory, raise --memory-limit-gb (TRAIN_MEMORY_LIMIT_GB)."
)
# Before the sample there is the label table itself, read whole to draw it (at 50M customers
# × 12 dates, ~30 GB): the sample sizes cannot shrink that, so the refusal names what can.
LABEL_KNOBS = (
    "The label table is read whole to sample it, so --max-train-rows and --max-eval-rows do "
    "not shrink this: label fewer as-of dates (dbt var snapshot_count), or build the training "
    "set on Spark, which samples on the executors (`python -m spark_pipeline`, README: Beyond "
    "one machine); or, if this machine really has the memory, raise --memory-limit-gb "
    "(TRAIN_MEMORY_LIMIT_GB)."
)


@dataclass(frozen=True)
class TrainingSet:
    """The training frame, its time split, and the model inputs and labels of each part.

    `frame` holds only the sampled label rows (`sampling` says which), joined to their
    features. `fit_rows` is what the models are fitted on: `train` itself once it was sampled
    to max_train_rows before the join; baselines and cross-validation use `train` too.
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
    sampling: Sampling | None = None

    @property
    def test_date(self) -> date:
        return self.test["as_of_date"].iloc[0]


def estimated_peak_bytes(label_rows: int, entity_rows: int, columns: int) -> float:
    """The training step's peak memory, from what it will hold (see BASE_BYTES)."""
    return BASE_BYTES + entity_rows * columns * BYTES_PER_CELL + label_rows * BYTES_PER_LABEL_ROW


def build(settings: TrainSettings, lap: Callable[[str], None] = lambda stage: None) -> TrainingSet:
    """Labels → split dates → sample per part → memory check → one Feast join → the parts.

    `lap(stage)` is called as each stage ends (the run's per-stage time and memory log).
    """
    window, seed = settings.label_window_days, settings.seed
    store = open_store(data_dir=settings.feast_data_dir)
    spec = feature_spec(store)
    label_rows = count_labels(settings.labels_path)
    refuse_unless_fits(
        estimated_peak_bytes(label_rows, 0, 0),
        what=f"reading {label_rows:,} label rows to sample them",
        limit_gb=settings.memory_limit_gb,
        knobs=LABEL_KNOBS,
    )
    labels = read_labels(settings.labels_path)
    windows = pc.unique(labels.column("label_window_days")).to_pylist()
    if windows != [window]:
        raise SystemExit(
            f"labels were built with a {windows} day window but --label-window is "
            f"{window}; rebuild with `dbt build --vars 'label_window_days: {window}'`"
        )
    days = as_of_days(labels.column("as_of_date"))
    train_dates, valid_dates, test_date = split_dates(
        [to_date(d) for d in np.unique(days)],
        settings.validation_dates,
        window,
        settings.test_as_of,
    )
    sampling = sample_parts(
        days,
        {
            "train": (train_dates, settings.max_train_rows),
            "validation": (valid_dates, settings.max_eval_rows),
            "test": ([test_date], settings.max_eval_rows),
        },
        seed,
    )
    log.info(
        "sampled %s of %s label rows before the join (seed %d): %s",
        f"{sampling.rows:,}",
        f"{labels.num_rows:,}",
        seed,
        ", ".join(
            f"{p.name} {sum(p.after.values()):,} of {sum(p.before.values()):,}"
            for p in sampling.parts
        ),
    )
    need = estimated_peak_bytes(
        labels.num_rows, sampling.rows, len(spec.names) + len(ENTITY_COLUMNS)
    )
    log.info("estimated peak memory of training: %.1f GB", need / GB)
    refuse_unless_fits(
        need,
        what=f"training on {sampling.rows:,} sampled label rows × {len(spec.names)} features",
        limit_gb=settings.memory_limit_gb,
        knobs=KNOBS,
    )
    entity = labels.select(ENTITY_COLUMNS).take(sampling.positions)
    del labels, days
    lap("sample labels")

    log.info("building the training set from Feast (%s labels)", f"{entity.num_rows:,}")
    frame = training_frame(store, as_entity_rows(entity.to_pandas()))
    del entity
    lap("training set from Feast")

    train, valid, test = split_on(frame, train_dates, valid_dates, test_date)
    # a no-op once train was sampled before the join; kept for frames built otherwise
    fit_rows = at_most(train, settings.max_train_rows, seed)
    data = TrainingSet(
        spec,
        frame,
        train,
        fit_rows,
        valid,
        test,
        *(as_model_input(part, spec) for part in (fit_rows, valid, test)),
        *(part[LABEL].to_numpy() for part in (fit_rows, valid, test)),
        sampling=sampling,
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
    lap("split by as-of date")
    return data
