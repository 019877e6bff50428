"""GET /model says why the served model is in models/current: the latest entry of
models/promotions.jsonl for its version (promoted over whom, on which figures, or rolled back
to), and nothing when the history does not mention it or cannot be read."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from modeling import promotions
from tests.api.conftest import copy_models


@pytest.fixture
def models_dir(trained_models, tmp_path):
    return copy_models(trained_models, tmp_path / "models")


def card(models_dir, feature_store) -> dict:
    settings = Settings(
        models_dir=models_dir, feast_data_dir=feature_store.feast_data_dir, _env_file=None
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/model")
    assert response.status_code == 200, response.text
    return response.json()


def test_the_card_shows_the_latest_entry_for_the_served_version(models_dir, feature_store):
    served = promotions.current_version(models_dir)
    figures = {"metric": "pr_auc", "challenger": {"pr_auc": 0.76}, "champion": {"pr_auc": 0.69}}
    promotions.record(models_dir, action="promote", version="older", previous=None, reason="x")
    promotions.record(
        models_dir, action="promote", version=served, previous="older", reason="first",
    )  # fmt: skip
    latest = promotions.record(
        models_dir,
        action="promote",
        version=served,
        previous="older",
        reason="beat the champion: PR-AUC 0.7600 vs 0.6900",
        compared_on="2025-12-01",
        figures=figures,
    )
    promotions.record(models_dir, action="promote", version="newer", previous=served, reason="y")
    promotion = card(models_dir, feature_store)["promotion"]
    assert promotion["reason"] == latest["reason"]
    assert (promotion["action"], promotion["version"], promotion["previous"]) == (
        "promote", served, "older",
    )  # fmt: skip
    assert promotion["compared_on"] == "2025-12-01" and promotion["figures"] == figures
    assert promotion["time"].startswith(latest["time"][:19])


def test_no_history_or_a_damaged_one_leaves_the_promotion_empty(models_dir, feature_store):
    assert card(models_dir, feature_store)["promotion"] is None
    promotions.history_path(models_dir).write_text('not json\n{"action": "promote"}\n[1, 2]\n')
    assert card(models_dir, feature_store)["promotion"] is None
