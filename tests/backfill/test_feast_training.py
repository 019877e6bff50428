"""Feast reads the backfill's output and the model trains on it, with nothing converted.

The backfill writes ``<output>/customer_features/as_of_date=…/part-*.parquet`` (and the same
for customer_labels) instead of dbt's two files. Pointing FEATURES_DIR (here: the
``features_dir`` of apply_definitions and TrainSettings) at the output folder must be all it
takes: Feast's DuckDB offline store reads the partitions through a glob, the point-in-time join
finds every label's own as-of row, and `modeling.train` builds its training set, fits, gates
and writes an artifact from it. Real Spark session, real Feast, real training; no mocks.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from backfill.job import BackfillRequest, run
from backfill.spec import FEATURES_MODEL, LABELS_MODEL, contract
from feature_repo import definitions
from feature_repo.contract import feature_columns
from feature_repo.store import apply_definitions, open_store
from modeling.artifact import load_model
from modeling.dataset import feature_spec, load_labels, training_frame
from modeling.settings import TrainSettings
from modeling.train import run as train
from tests.backfill.compare import read_backfill, value_differences

EVERY_DAYS = 28
DATES = 14  # about a year of four-weekly as-of dates: 12 of them fully labelled


@pytest.fixture(scope="module")
def backfill_output(spark, sample_raw, tmp_path_factory) -> Path:
    """The suite's generated sample (1,200 customers, three years) backfilled on a four-weekly
    grid that is not dbt's, so nothing here can come from a dbt build."""
    latest = pd.read_parquet(sample_raw / "transactions.parquet", columns=["order_date"])
    latest = pd.to_datetime(latest["order_date"]).max().date()
    output = tmp_path_factory.mktemp("backfill-for-feast") / "backfill"
    summary = run(
        spark,
        BackfillRequest(
            input_dir=str(sample_raw),
            output_dir=str(output),
            start=latest - timedelta(days=EVERY_DAYS * (DATES - 1)),
            end=None,
            every_days=EVERY_DAYS,
            label_window_days=30,
            dates_per_batch=8,
            progress=False,
        ),
    )
    assert len(summary.as_of_dates) == DATES and summary.label_rows > 0
    return output


def test_features_path_prefers_dbt_file_then_backfill_partitions(tmp_path):
    """FEATURES_DIR keeps meaning dbt's marts when they are there; a backfill folder is read
    only where there is no dbt file, through a glob over its as-of partitions."""
    assert definitions.features_path(tmp_path) == str(tmp_path / "customer_features.parquet")
    for table in (FEATURES_MODEL, LABELS_MODEL):
        (tmp_path / table / "as_of_date=2024-01-01").mkdir(parents=True)
    assert definitions.features_path(tmp_path) == str(
        tmp_path / "customer_features" / "as_of_date=*" / "*.parquet"
    )
    assert TrainSettings(features_dir=tmp_path).labels_path == tmp_path / "customer_labels"
    (tmp_path / "customer_features.parquet").touch()
    (tmp_path / "customer_labels.parquet").touch()
    assert definitions.features_path(tmp_path) == str(tmp_path / "customer_features.parquet")
    assert TrainSettings(features_dir=tmp_path).labels_path == tmp_path / "customer_labels.parquet"


@pytest.mark.slow
def test_feast_serves_the_backfill_rows_point_in_time(backfill_output, tmp_path):
    """Every backfill label row gets exactly its own as-of row's features from Feast: same row
    count, same values in every FeatureService column (floats to 1e-9)."""
    store = open_store(data_dir=tmp_path / "feast")
    apply_definitions(store, features_dir=backfill_output)
    source = store.get_data_source("customer_features_source")
    assert source.path.startswith(str(backfill_output / FEATURES_MODEL))

    labels = load_labels(TrainSettings(features_dir=backfill_output).labels_path)
    assert len(labels) == len(read_backfill(backfill_output / LABELS_MODEL))
    frame = training_frame(store, labels)  # raises if Feast dropped a row
    assert len(frame) == len(labels)

    names = [c.name for c in feature_columns()]
    assert set(feature_spec(store).names) == set(names)
    backfill = read_backfill(backfill_output / FEATURES_MODEL).to_pandas()
    wanted = backfill.merge(frame[["customer_id", "as_of_date"]], on=["customer_id", "as_of_date"])
    assert len(wanted) == len(frame), "a label row has no backfill feature row"
    floats = {c.name for c in contract(FEATURES_MODEL) if c.data_type == "double"}
    problems = value_differences(
        wanted, frame, ["customer_id", "as_of_date", *names], floats, limit=3
    )
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_model_trains_on_the_backfill_and_beats_recency(backfill_output, tmp_path):
    """`modeling.train` with FEATURES_DIR = the backfill output: the training set is the
    backfill's labels, the held-out date is the newest labelled partition, the model beats
    the recency baseline (status 0, promoted) and its artifact loads against the service."""
    store = open_store(data_dir=tmp_path / "feast")
    apply_definitions(store, features_dir=backfill_output)
    models_dir = tmp_path / "models"
    status = train(
        TrainSettings(
            models=("xgb",),
            models_dir=models_dir,
            features_dir=backfill_output,
            feast_data_dir=tmp_path / "feast",
            cv_folds=2,
            ground_truth=None,
        )
    )
    assert status == 0, "the model trained on the backfill did not pass the quality gate"

    labels = read_backfill(backfill_output / LABELS_MODEL).to_pandas()
    newest = max(labels["as_of_date"])
    model = load_model(models_dir / "current", expected=feature_spec(store))
    meta = model.metadata
    assert meta["as_of_range"]["test"] == str(newest)
    assert meta["rows"]["test"] == int((labels["as_of_date"] == newest).sum())
    assert meta["rows"]["train"] + meta["rows"]["validation"] > 0
    assert meta["as_of_range"]["train"][1] < meta["as_of_range"]["validation"][0]
    metrics = json.loads((models_dir / "current" / "metrics.json").read_text())
    assert metrics["models"]["xgb"]["test"]["roc_auc"] > 0.7
    assert metrics["gate"]["passed"] is True
