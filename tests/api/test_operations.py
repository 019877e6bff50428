"""Operating the API: model card, health, reload, store outages, errors, logs, settings."""

from __future__ import annotations

import json
import logging
import shutil

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

import api.routes.predictions
from api.main import create_app
from api.settings import Settings
from feature_repo.materialize import materialize_latest
from feature_repo.store import open_store
from tests.api.conftest import ADMIN_TOKEN, copy_models
from tests.conftest import redis_server
from tests.support.services import free_port


def test_model_card(client, trained_models):
    card = client.get("/model").json()
    meta = json.loads((trained_models / "current" / "metadata.json").read_text())
    assert card["version"] == meta["version"]
    assert card["threshold"] == pytest.approx(meta["threshold"], abs=1e-6)
    assert card["as_of_range"] == meta["as_of_range"]
    assert card["metrics"]["roc_auc"] == meta["metrics"]["roc_auc"]
    assert [f["name"] for f in card["features"]] == [f["name"] for f in meta["features"]]
    assert card["explanation_method"] == "xgboost_tree_shap"


def test_health_is_ready(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() | {"model_version": None} == {
        "status": "ok", "live": True, "ready": True, "model_loaded": True,
        "model_version": None, "online_store": "reachable", "detail": None,
    }  # fmt: skip


def test_without_a_model_the_api_starts_but_is_not_ready(api_settings, tmp_path):
    settings = api_settings.model_copy(update={"models_dir": tmp_path / "empty"})
    with TestClient(create_app(settings)) as client:
        health = client.get("/health")
        assert health.status_code == 503 and health.json()["ready"] is False
        response = client.post("/predict", json={"customer_id": "C0000001"})
        assert response.status_code == 503
        assert "not ready" in response.json()["detail"]


def test_not_ready_says_why_without_the_servers_paths(api_settings, tmp_path):
    """A model folder that cannot load: clients get the plain reason, the log the details."""
    models = tmp_path / "models"
    (models / "v1").mkdir(parents=True)
    (models / "v1" / "metadata.json").mkdir()  # unreadable as a file
    (models / "current").symlink_to("v1")
    settings = api_settings.model_copy(update={"models_dir": models})
    with TestClient(create_app(settings)) as client:
        for response in (
            client.get("/health"),
            client.post("/predict", json={"customer_id": "C0000001"}),
        ):
            assert response.status_code == 503
            assert "metadata.json cannot be read" in response.text
            # no disk paths, traces or exception class names: those are in the log
            assert str(tmp_path) not in response.text and "Traceback" not in response.text
            assert "Error" not in response.text


def test_openapi_documents_every_endpoint(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/predict", "/customers/{customer_id}/prediction", "/predict/batch",
            "/predict/features", "/model", "/health", "/admin/reload"} <= set(paths)  # fmt: skip
    what_if = client.get("/openapi.json").json()["components"]["schemas"]["FeatureValues"]
    assert what_if["properties"]["recency_days"]["anyOf"][0]["minimum"] == 0


# ---- reload --------------------------------------------------------------------------------


@pytest.fixture()
def reloadable(api_settings, trained_models, tmp_path):
    """An app on its own copy of the models folder, so tests can promote and damage."""
    models_dir = copy_models(trained_models, tmp_path / "models")
    settings = api_settings.model_copy(update={"models_dir": models_dir})
    with TestClient(create_app(settings)) as client:
        yield client, models_dir


def _promote_copy(models_dir, name, damage=None):
    """Copy the current version as `name`, optionally damage it, point current at it."""
    source = (models_dir / "current").resolve()
    target = models_dir / name
    shutil.copytree(source, target)
    meta = json.loads((target / "metadata.json").read_text())
    meta["version"] = name
    (target / "metadata.json").write_text(json.dumps(meta))
    if damage:
        damage(target)
    (models_dir / "current").unlink()
    (models_dir / "current").symlink_to(name)


def test_reload_needs_the_token(reloadable):
    client, _ = reloadable
    assert client.post("/admin/reload").status_code == 401
    assert client.post("/admin/reload", headers={"X-Admin-Token": "wrong"}).status_code == 403


def test_reload_is_disabled_without_a_configured_token(api_settings):
    settings = api_settings.model_copy(update={"admin_token": None})
    with TestClient(create_app(settings)) as client:
        response = client.post("/admin/reload", headers={"X-Admin-Token": ADMIN_TOKEN})
        assert response.status_code == 403


def test_reload_swaps_in_the_new_version(reloadable, known_ids):
    client, models_dir = reloadable
    old = client.get("/model").json()["version"]
    state = client.app.state.serving
    in_flight = state.current()  # what a request that started before the reload holds
    _promote_copy(models_dir, "v-new")
    response = client.post("/admin/reload", headers={"X-Admin-Token": ADMIN_TOKEN})
    assert response.status_code == 200
    assert response.json()["previous_version"] == old
    assert response.json()["model_version"] == "v-new"
    assert (
        client.post("/predict", json={"customer_id": known_ids[0]}).json()["model_version"]
        == "v-new"
    )
    assert in_flight.model.version == old  # the old snapshot is untouched


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / "estimator.ubj").write_bytes(b"not a model"),
        lambda d: (d / "metadata.json").write_text("{"),
        lambda d: (d / "preprocessor.skops").unlink(),
        lambda d: (d / "metadata.json").write_text(
            json.dumps({**json.loads((d / "metadata.json").read_text()), "features": []})
        ),
    ],
    ids=["corrupt-estimator", "bad-json", "missing-file", "wrong-features"],
)
def test_bad_artifact_is_refused_and_the_old_model_keeps_serving(reloadable, known_ids, damage):
    client, models_dir = reloadable
    old = client.get("/model").json()["version"]
    _promote_copy(models_dir, "v-broken", damage)
    response = client.post("/admin/reload", headers={"X-Admin-Token": ADMIN_TOKEN})
    assert response.status_code == 409
    assert "previous model keeps serving" in response.json()["detail"]
    assert client.get("/model").json()["version"] == old
    prediction = client.post("/predict", json={"customer_id": known_ids[0]})
    assert prediction.status_code == 200 and prediction.json()["model_version"] == old


# ---- online store outage and recovery ------------------------------------------------------


def test_store_outage_is_503_then_recovers_by_itself(api_settings, feature_store, tmp_path):
    port = free_port()  # nothing listens here yet
    data_dir = tmp_path / "feast"
    data_dir.mkdir()
    shutil.copy(feature_store.feast_data_dir / "registry.db", data_dir / "registry.db")
    settings = api_settings.model_copy(
        update={"feast_data_dir": data_dir, "redis_url": f"127.0.0.1:{port}"}
    )
    with TestClient(create_app(settings)) as client:
        down = client.post("/predict", json={"customer_id": "C0000001"})
        assert down.status_code == 503
        assert "unreachable" in down.json()["detail"]
        assert "Traceback" not in down.text
        health = client.get("/health")
        assert health.status_code == 503 and health.json()["online_store"] == "unreachable"

        with redis_server(tmp_path, port) as url:
            materialize_latest(open_store(data_dir=data_dir, redis_url=url))
            customer = client.get("/model")  # the same app, no restart
            assert customer.status_code == 200
            back = client.post("/predict/batch", json={"customer_ids": ["C0000001", "C0000002"]})
            assert back.status_code == 200 and back.json()["found"] >= 1
            assert client.get("/health").status_code == 200


# ---- errors and logs -----------------------------------------------------------------------


def test_unexpected_errors_are_a_plain_json_500(client, known_ids, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api.routes.predictions, "predict_customers", broken)
    response = client.post("/predict", json={"customer_id": known_ids[0]})
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error; the server log has the details"}
    assert "secret internals" not in response.text


def test_one_json_log_line_per_request(client, caplog):
    logger = logging.getLogger("api.requests")
    logger.addHandler(caplog.handler)
    try:
        client.get("/customers/NOBODY123/prediction")
    finally:
        logger.removeHandler(caplog.handler)
    (record,) = {id(r): r for r in caplog.records if r.name == "api.requests"}.values()
    assert record.msg["path"] == "/customers/NOBODY123/prediction"
    assert record.msg["status"] == 404
    assert record.msg["latency_ms"] >= 0


# ---- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"tier_high": 0.3, "tier_medium": 0.6},
        {"tier_high": 1.5},
        {"batch_max": 0},
        {"admin_token": "short"},
        {"redis_url": "no-port"},
        {"max_body_bytes": 10},
        {"feast_yaml": "/nonexistent.yaml"},
    ],
)
def test_unsafe_settings_fail_at_start_up(values):
    with pytest.raises(ValidationError):
        Settings(_env_file=None, **values)


def test_settings_come_from_api_environment_variables(monkeypatch):
    monkeypatch.setenv("API_BATCH_MAX", "250")
    monkeypatch.setenv("API_TIER_HIGH", "0.7")
    settings = Settings(_env_file=None)
    assert settings.batch_max == 250 and settings.tier_high == 0.7


def test_what_start_up_loaded_is_frozen_out_of_the_garbage_collector(api_settings):
    """Full collections must not walk the model and the store: they paused the API 150 ms.
    (Freezing is per process; at shutdown the app hands its objects back to the collector.)"""
    import gc

    with TestClient(create_app(api_settings)) as client:
        serving = client.app.state.serving.loaded
        assert serving is not None
        made_now = [[]]
        tracked = {id(o) for o in gc.get_objects()}  # generations 0–2, not the frozen ones
        assert id(made_now) in tracked
        assert gc.get_freeze_count() > 0
        assert id(serving) not in tracked
        assert id(serving.model.metadata) not in tracked
    assert gc.get_freeze_count() == 0
