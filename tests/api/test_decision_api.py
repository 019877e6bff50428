"""One rule for tier, verdict and action, through the real API: every answer, /model and the
web page state the same cut-offs, and no answer contradicts itself."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.scoring import rule_for
from modeling.decision import ACTIONS


def _consistent(prediction: dict, rule: dict) -> None:
    p = prediction["probability"]
    assert prediction["threshold"] == rule["threshold"]
    assert prediction["high_cutoff"] == rule["high_cutoff"]
    assert prediction["will_repeat"] == (p >= rule["threshold"])
    assert prediction["will_repeat"] == (prediction["tier"] != "low")
    assert prediction["action"] == ACTIONS[prediction["tier"]]
    assert prediction["tier"] in prediction["decision"]


def test_answers_follow_the_rule_model_states(client, known_ids):
    rule = client.get("/model").json()["decision_rule"]
    assert rule["high_cutoff"] >= rule["threshold"]
    assert f"{rule['threshold'] * 100:.1f} %" in rule["sentence"]
    items = client.post("/predict/batch", json={"customer_ids": known_ids}).json()["items"]
    tiers = set()
    for item in items:
        _consistent(item["prediction"], rule)
        tiers.add(item["prediction"]["tier"])
    assert len(tiers) >= 2


def test_what_if_answers_over_a_grid_never_contradict(client):
    """Probabilities across the range (the what-if form): each (tier, verdict, action) agrees."""
    rule = client.get("/model").json()["decision_rule"]
    seen = set()
    for recency in (0, 5, 20, 60, 120, 300):
        for orders in (1, 3, 10, 40):
            body = {"recency_days": recency, "orders_count": orders, "orders_90d": orders // 2}
            answer = client.post("/predict/features", json=body).json()
            _consistent(answer, rule)
            seen.add((answer["tier"], answer["will_repeat"]))
    assert ("medium", False) not in seen and ("high", False) not in seen
    assert ("low", True) not in seen


@pytest.mark.parametrize("top_percent", [5.0, 30.0])
def test_a_capacity_cut_off_is_applied_and_stated(api_settings, known_ids, top_percent):
    settings = api_settings.model_copy(update={"tier_high_top_percent": top_percent})
    with TestClient(create_app(settings), raise_server_exceptions=False) as capacity:
        rule = capacity.get("/model").json()["decision_rule"]
        assert rule["high_top_percent"] == top_percent
        assert f"top {top_percent:g} %" in rule["sentence"]
        items = capacity.post("/predict/batch", json={"customer_ids": known_ids}).json()
        for item in items["items"]:
            _consistent(item["prediction"], rule)


def test_the_page_states_the_rule(client):
    page = client.get("/").text
    assert "data-tier-medium" not in page
    script = client.get("/static/app.js").text
    assert "decision_rule" in script and "base_rate" in script and "r.text" in script


def test_an_older_model_without_score_percentiles_keeps_the_probability_cut_off(
    client, api_settings
):
    model = client.app.state.serving.loaded.model
    older = replace(model, metadata={**model.metadata, "score_quantiles": None})
    settings = api_settings.model_copy(update={"tier_high_top_percent": 5.0})
    assert rule_for(model, settings).top_percent == 5.0
    rule = rule_for(older, settings)
    assert rule.top_percent is None
    assert rule.high == max(round(model.threshold, 6), api_settings.tier_high)
