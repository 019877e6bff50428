"""Training: artifacts that load safely, a quality gate with teeth, determinism."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from feature_repo.contract import FEATURE_SERVICE
from modeling.artifact import ArtifactError, load_model
from modeling.dataset import feature_spec, split_by_as_of
from modeling.settings import TrainSettings
from modeling.train import GATE_FAILED
from modeling.train import run as train


def test_promoted_artifact_loads_and_matches_the_feature_service(trained_models, feature_store):
    model = load_model(trained_models / "current", expected=feature_spec(feature_store))
    meta = model.metadata
    assert meta["feature_service"] == FEATURE_SERVICE
    assert [f["name"] for f in meta["features"]] == list(feature_spec(feature_store).names)
    assert 0 < meta["threshold"] < 1
    assert meta["as_of_range"]["train"][1] < meta["as_of_range"]["test"]
    assert {"roc_auc", "pr_auc", "f1", "brier", "log_loss"} <= set(meta["metrics"])
    metrics = json.loads((trained_models / "current" / "metrics.json").read_text())
    assert metrics["gate"]["passed"] is True


def test_the_promoted_model_beats_recency_on_the_held_out_date(trained_models):
    """No tolerance: on the held-out test date the model must rank better than recency alone
    by both ROC-AUC and PR-AUC (the gate checks only the selection metric). On the session's
    sample the margins are far above the noise of one date (see the report for the figures)."""
    metrics = json.loads((trained_models / "current" / "metrics.json").read_text())
    model = metrics["models"][metrics["chosen"]]["test"]
    recency = metrics["baselines"]["recency"]["test"]
    for metric in ("roc_auc", "pr_auc"):
        assert model[metric] > recency[metric], (metric, model[metric], recency[metric])


def test_loading_refuses_a_mismatched_feature_list(trained_models, feature_store, tmp_path):
    copy = tmp_path / "mismatched"
    shutil.copytree((trained_models / "current").resolve(), copy)
    meta = json.loads((copy / "metadata.json").read_text())
    meta["features"] = meta["features"][:-1]
    (copy / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="does not match"):
        load_model(copy, expected=feature_spec(feature_store))


def test_loading_refuses_a_damaged_model_file(trained_models, tmp_path):
    copy = tmp_path / "damaged"
    shutil.copytree((trained_models / "current").resolve(), copy)
    (copy / "estimator.ubj").write_bytes(b"not a model")
    with pytest.raises(ArtifactError):
        load_model(copy)


def test_split_is_by_as_of_date_never_random(warehouse):
    frame = pd.read_parquet(warehouse.features_dir / "customer_labels.parquet")
    frame["as_of_date"] = pd.to_datetime(frame["as_of_date"]).dt.date
    train, valid, test = split_by_as_of(frame, validation_dates=1)
    assert train["as_of_date"].max() < valid["as_of_date"].min()
    assert valid["as_of_date"].max() < test["as_of_date"].min()
    assert test["as_of_date"].nunique() == 1
    assert len(train) + len(valid) + len(test) == len(frame)


def test_gate_refuses_a_model_that_cannot_beat_recency(
    warehouse, feature_store, trained_models, tmp_path
):
    """Labels that recency predicts perfectly: no model can beat it, so nothing is promoted."""
    features = pd.read_parquet(warehouse.features_dir / "customer_features.parquet")
    labels = pd.read_parquet(warehouse.features_dir / "customer_labels.parquet")
    merged = labels.merge(features[["customer_id", "as_of_date", "recency_days"]])
    cut = merged.groupby("as_of_date")["recency_days"].transform("median")
    merged["repeat_30d"] = (merged["recency_days"] < cut).astype("int64")
    features_dir = tmp_path / "features"
    features_dir.mkdir()
    merged[labels.columns].to_parquet(features_dir / "customer_labels.parquet", index=False)
    models_dir = tmp_path / "models"
    status = train(
        TrainSettings(
            models=("lr",),
            models_dir=models_dir,
            features_dir=features_dir,
            feast_data_dir=feature_store.feast_data_dir,
        )
    )
    assert status == GATE_FAILED
    assert not (models_dir / "current").exists()


def test_same_seed_same_model(warehouse, feature_store, trained_models, tmp_path):
    settings = dict(
        models=("xgb",),
        features_dir=warehouse.features_dir,
        feast_data_dir=feature_store.feast_data_dir,
    )
    assert train(TrainSettings(models_dir=tmp_path / "again", **settings)) == 0
    first = json.loads((trained_models / "current" / "metrics.json").read_text())
    second = json.loads((tmp_path / "again" / "current" / "metrics.json").read_text())
    assert first["models"] == {
        k: {**v, "fit_seconds": first["models"][k]["fit_seconds"]}
        for k, v in second["models"].items()
    }
