"""POST /admin/reload refuses what it cannot serve correctly, with a plain 409.

Metadata that serving reads wrongly (no threshold, "NaN", 1.5, a string, other features, a
bad date) and files that would run code are refused before the swap; the old model keeps
answering, no body ever holds a bare NaN, and the 409 body holds no path or library trace
(those go to the log). The crafted skops pipeline is tried on the in-process app and on a
real uvicorn process: its marker file never appears.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path

import httpx
import pytest
import skops.io as sio
from fastapi.testclient import TestClient

from api.main import create_app
from api.serving import warm_up
from modeling.artifact import ArtifactError, sha256
from tests.api.conftest import ADMIN_TOKEN, copy_models, uvicorn_server
from tests.modeling.test_artifact_safety import crafted_pipeline, plant

HEADERS = {"X-Admin-Token": ADMIN_TOKEN}


def strict_json(text: str):
    """json.loads that refuses NaN/Infinity, which are not JSON (browsers reject them)."""

    def refuse(token: str):
        raise AssertionError(f"bare {token} in a response body")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture()
def reloadable(api_settings, trained_models, tmp_path):
    """An app on its own copy of the models folder, to promote broken versions into."""
    models_dir = copy_models(trained_models, tmp_path / "models")
    settings = api_settings.model_copy(update={"models_dir": models_dir})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, models_dir


def promote_broken(models_dir: Path, name: str, damage) -> Path:
    """Copy the current version as `name`, damage it, point models/current at it."""
    target = models_dir / name
    shutil.copytree((models_dir / "current").resolve(), target)
    meta = json.loads((target / "metadata.json").read_text())
    meta["version"] = name
    (target / "metadata.json").write_text(json.dumps(meta))
    damage(target)
    (models_dir / "current").unlink()
    (models_dir / "current").symlink_to(name)
    return target


def edit_metadata(change):
    def damage(directory: Path) -> None:
        meta = json.loads((directory / "metadata.json").read_text())
        change(meta)
        (directory / "metadata.json").write_text(json.dumps(meta))

    return damage


def _rename_first_feature(meta: dict) -> None:
    meta["features"][0]["name"] += "_v2"


def _swap_two_features(meta: dict) -> None:
    meta["features"][:2] = meta["features"][1::-1]


def assert_old_model_serves(client: TestClient, old: str, customer_id: str) -> None:
    card = client.get("/model")
    assert card.status_code == 200 and strict_json(card.text)["version"] == old
    answer = client.post("/predict", json={"customer_id": customer_id})
    assert answer.status_code == 200
    body = strict_json(answer.text)
    assert body["model_version"] == old and 0 < body["threshold"] < 1


def assert_plain(body: str, *private: str) -> None:
    detail = strict_json(body)["detail"]
    assert detail.startswith("reload refused, the previous model keeps serving: ")
    assert "\n" not in detail and "Stack trace" not in detail and "[bt]" not in detail
    assert not any(p in detail for p in private)
    assert " /" not in detail and "'/" not in detail  # no absolute path of any kind


@pytest.mark.parametrize(
    "damage",
    [
        edit_metadata(lambda m: m.pop("threshold")),
        edit_metadata(lambda m: m.update(threshold="NaN")),
        lambda d: (d / "metadata.json").write_text(
            (d / "metadata.json").read_text().replace('"threshold": ', '"threshold": NaN, "x": ')
        ),
        edit_metadata(lambda m: m.update(threshold=1.5)),
        edit_metadata(lambda m: m.update(threshold=0)),
        edit_metadata(lambda m: m.update(threshold="0.4")),
        edit_metadata(lambda m: m.update(threshold=True)),
        edit_metadata(_rename_first_feature),
        edit_metadata(_swap_two_features),
        edit_metadata(lambda m: m.update(feature_service="another_service")),
        edit_metadata(lambda m: m.update(trained_at="yesterday")),
        edit_metadata(lambda m: m.pop("version")),
        edit_metadata(lambda m: m.pop("artifact_sha256")),
    ],
    ids=[
        "no-threshold", "threshold-NaN-string", "threshold-bare-NaN", "threshold-1.5",
        "threshold-0", "threshold-string", "threshold-bool", "renamed-feature",
        "reordered-features", "other-service", "bad-trained-at", "no-version", "no-hashes",
    ],
)  # fmt: skip
def test_metadata_serving_cannot_use_is_refused(reloadable, known_ids, tmp_path, damage):
    client, models_dir = reloadable
    old = client.get("/model").json()["version"]
    promote_broken(models_dir, "v-bad-metadata", damage)
    response = client.post("/admin/reload", headers=HEADERS)
    assert response.status_code == 409
    assert_plain(response.text, str(tmp_path))
    assert_old_model_serves(client, old, known_ids[0])


def test_crafted_pipeline_never_runs_through_reload(reloadable, known_ids, tmp_path):
    client, models_dir = reloadable
    old = client.get("/model").json()["version"]
    marker = tmp_path / "marker"
    data = sio.dumps(crafted_pipeline(marker))
    promote_broken(models_dir, "v-crafted", lambda d: plant(d, "preprocessor.skops", data))
    response = client.post("/admin/reload", headers=HEADERS)
    assert response.status_code == 409
    assert "exec" in strict_json(response.text)["detail"]
    assert_plain(response.text, str(tmp_path))
    assert not marker.exists()
    assert_old_model_serves(client, old, known_ids[0])
    assert not marker.exists()


def test_crafted_pipeline_never_runs_in_a_live_server(
    trained_models, feature_store, known_ids, tmp_path, monkeypatch
):
    """The real process: the report was a marker written by a worker during the warm-up."""
    models_dir = copy_models(trained_models, tmp_path / "models")
    marker = tmp_path / "marker"
    monkeypatch.setenv("API_ADMIN_TOKEN", ADMIN_TOKEN)
    with uvicorn_server(models_dir, feature_store, tmp_path / "server.log") as (url, _):
        old = httpx.get(f"{url}/model").json()["version"]
        data = sio.dumps(crafted_pipeline(marker))
        promote_broken(models_dir, "v-crafted", lambda d: plant(d, "preprocessor.skops", data))
        response = httpx.post(f"{url}/admin/reload", headers=HEADERS, timeout=60)
        assert response.status_code == 409
        assert_plain(response.text, str(tmp_path))
        answer = httpx.post(f"{url}/predict", json={"customer_id": known_ids[0]}, timeout=30)
        assert answer.status_code == 200 and answer.json()["model_version"] == old
    assert not marker.exists()


def test_refusal_is_plain_and_the_details_are_in_the_log(reloadable, tmp_path, caplog):
    """An estimator.ubj XGBoost cannot read (hash correct): XGBoost's error has a C++ stack
    trace and paths; the client gets one plain line, the log gets the whole story."""
    client, models_dir = reloadable
    promote_broken(models_dir, "v-garbled", lambda d: plant(d, "estimator.ubj", b"not a model"))
    with caplog.at_level(logging.WARNING, logger="api.errors"):
        response = client.post("/admin/reload", headers=HEADERS)
    assert response.status_code == 409
    assert_plain(response.text, str(tmp_path), "XGBoostError")
    assert "estimator.ubj is not a readable XGBoost model" in response.json()["detail"]
    assert "reload refused" in caplog.text and "XGBoostError" in caplog.text  # with the trace


def test_warm_up_goes_through_the_serving_path(reloadable, known_ids):
    """If a NaN threshold ever got past the metadata check, the warm-up (score_rows, fast path
    included) would still refuse it: its answers would carry a bare NaN."""
    client, _ = reloadable
    serving = client.app.state.serving.current()
    assert serving.fast is not None  # the XGBoost model compiles: the fast path is checked
    settings = client.app.state.settings
    warm_up(serving, settings)  # the model as loaded passes
    threshold = serving.model.metadata["threshold"]
    serving.model.metadata["threshold"] = math.nan
    try:
        with pytest.raises(ArtifactError, match="warm-up"):
            warm_up(serving, settings)
    finally:
        serving.model.metadata["threshold"] = threshold


def test_hashes_do_not_stop_a_good_reload(reloadable, known_ids):
    client, models_dir = reloadable
    target = promote_broken(models_dir, "v-good", lambda d: None)
    meta = json.loads((target / "metadata.json").read_text())
    assert meta["artifact_sha256"]["estimator.ubj"] == sha256(
        (target / "estimator.ubj").read_bytes()
    )
    response = client.post("/admin/reload", headers=HEADERS)
    assert response.status_code == 200 and response.json()["model_version"] == "v-good"
