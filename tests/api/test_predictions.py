"""Prediction endpoints: by id, as a resource, in batches, and what-if; with their errors."""

from __future__ import annotations

import dataclasses

import pytest

import api.scoring


def test_predict_returns_the_whole_answer(client, known_ids):
    response = client.post("/predict", json={"customer_id": f"  {known_ids[0]}\t"})
    assert response.status_code == 200
    body = response.json()
    assert body["customer_id"] == known_ids[0]  # trimmed like staging does
    assert 0 <= body["probability"] <= 1
    assert body["will_repeat"] == (body["probability"] >= body["threshold"])
    assert body["tier"] in {"high", "medium", "low"}
    assert body["action"]
    assert body["features_as_of"] is not None
    assert isinstance(body["stale"], bool)
    assert body["model_version"] == client.get("/model").json()["version"]
    assert 1 <= len(body["reasons"]) <= 5
    for reason in body["reasons"]:
        assert reason["method"] == body["explanation_method"] == "xgboost_tree_shap"
        assert reason["direction"] == ("up" if reason["contribution"] > 0 else "down")


def test_get_resource_equals_post(client, known_ids):
    by_get = client.get(f"/customers/{known_ids[1]}/prediction").json()
    by_post = client.post("/predict", json={"customer_id": known_ids[1]}).json()
    assert by_get == by_post


def test_tiers_follow_the_settings(client, known_ids, api_settings):
    """high from max(threshold, API_TIER_HIGH); medium from the model's threshold; low below."""
    items = client.post("/predict/batch", json={"customer_ids": known_ids}).json()["items"]
    for item in items:
        pr = item["prediction"]
        p, threshold = pr["probability"], pr["threshold"]
        assert pr["high_cutoff"] == max(threshold, api_settings.tier_high)
        expected = (
            "high" if p >= pr["high_cutoff"] else "medium" if p >= threshold else "low"
        )  # fmt: skip
        assert pr["tier"] == expected


def test_unknown_customer_is_404_with_a_message(client):
    response = client.post("/predict", json={"customer_id": "NOBODY123"})
    assert response.status_code == 404
    assert "NOBODY123" in response.json()["detail"]
    assert client.get("/customers/NOBODY123/prediction").status_code == 404


@pytest.mark.parametrize("bad", ["", "   ", "NULL", "a" * 129, "x\x00y"])
def test_malformed_ids_are_422(client, bad):
    assert client.post("/predict", json={"customer_id": bad}).status_code == 422


@pytest.mark.parametrize("body", [{}, {"customer_id": 12}, {"customer_id": None}, []])
def test_malformed_bodies_are_422(client, body):
    assert client.post("/predict", json=body).status_code == 422


def test_malformed_path_id_is_422(client):
    assert client.get("/customers/%20N%2FA%20/prediction").status_code == 422


def test_batch_reports_each_id_without_failing(client, known_ids):
    ids = [known_ids[0], "NOBODY123", "NULL", known_ids[2]]
    response = client.post("/predict/batch", json={"customer_ids": ids})
    assert response.status_code == 200
    body = response.json()
    assert [i["status"] for i in body["items"]] == ["ok", "not_found", "invalid", "ok"]
    assert [i["customer_id"] for i in body["items"]] == ids
    assert body["count"] == 4 and body["found"] == 2
    single = client.post("/predict", json={"customer_id": known_ids[2]}).json()
    assert body["items"][3]["prediction"]["probability"] == single["probability"]
    assert body["items"][1]["error"] and body["items"][2]["error"]


def test_batch_makes_one_lookup_and_one_model_call(client, known_ids, monkeypatch):
    calls = {"lookup": 0, "score": 0}
    real_lookup, real_score = api.scoring.lookup, api.scoring.score_rows

    def counting_lookup(*args, **kwargs):
        calls["lookup"] += 1
        return real_lookup(*args, **kwargs)

    def counting_score(*args, **kwargs):
        calls["score"] += 1
        return real_score(*args, **kwargs)

    monkeypatch.setattr(api.scoring, "lookup", counting_lookup)
    monkeypatch.setattr(api.scoring, "score_rows", counting_score)
    # without the result cache, which would answer ids earlier tests scored already
    state = client.app.state.serving
    monkeypatch.setattr(state, "_serving", dataclasses.replace(state.current(), cache=None))
    response = client.post("/predict/batch", json={"customer_ids": known_ids})
    assert response.json()["found"] == len(known_ids)
    assert calls == {"lookup": 1, "score": 1}


def test_batch_over_the_limit_is_refused_with_a_message(client, api_settings):
    ids = [f"C{i:07d}" for i in range(api_settings.batch_max + 1)]
    response = client.post("/predict/batch", json={"customer_ids": ids})
    assert response.status_code == 413
    assert str(api_settings.batch_max) in response.json()["detail"]


def test_empty_batch_is_422(client):
    assert client.post("/predict/batch", json={"customer_ids": []}).status_code == 422


def test_body_over_the_byte_limit_is_413(client, api_settings):
    padding = "x" * (api_settings.max_body_bytes + 1)
    response = client.post("/predict", json={"customer_id": padding})
    assert response.status_code == 413


# ---- what-if -------------------------------------------------------------------------------


def test_what_if_scores_partial_values(client):
    response = client.post(
        "/predict/features",
        json={"recency_days": 3, "orders_count": 12, "favourite_category": "books"},
    )
    assert response.status_code == 200
    body = response.json()
    assert 0 <= body["probability"] <= 1
    assert "recency_days" not in body["missing_features"]
    assert "age" in body["missing_features"]


def test_what_if_with_nothing_is_all_missing(client):
    body = client.post("/predict/features", json={}).json()
    assert len(body["missing_features"]) == len(client.get("/model").json()["features"])


def test_recent_active_customer_scores_above_a_lapsed_one(client):
    active = {"recency_days": 5, "orders_count": 20, "purchase_days": 20, "orders_90d": 6,
              "orders_30d": 2, "tenure_days": 400, "mean_gap_days": 20}  # fmt: skip
    lapsed = {**active, "recency_days": 700, "orders_90d": 0, "orders_30d": 0}
    p_active = client.post("/predict/features", json=active).json()["probability"]
    p_lapsed = client.post("/predict/features", json=lapsed).json()["probability"]
    assert p_active > p_lapsed


@pytest.mark.parametrize(
    "values",
    [
        {"recency_days": -1},  # non_negative in the dbt contract
        {"total_spend": -0.5},
        {"weekend_order_share": 1.5},  # a share is a fraction
        {"as_of_month": 13},
        {"as_of_day_of_week": 7},  # accepted_values 0..6
        {"recency_days": "soon"},
        {"recency_day": 3},  # typo: unknown fields are refused
        {"gender": ""},
    ],
)
def test_what_if_validates_ranges(client, values):
    response = client.post("/predict/features", json=values)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"
