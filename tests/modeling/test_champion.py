"""Champion / challenger: a new model replaces models/current only if it beats it, by more than
the CV spread, on the newest labelled date neither was fitted on; every switch is recorded.

Three training runs on the session's sample, the smallest that show each outcome: a weak
Logistic Regression (300 training rows) against the session's XGBoost champion, then two
small XGBoost challengers against that weak model, one with a margin it cannot clear. The
last promotion is then rolled back with the real command while the real API serves it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import httpx
import pytest

from modeling import promotions
from modeling.rollback import REFUSED
from modeling.rollback import main as rollback
from modeling.selection import ChampionMargin
from modeling.settings import TrainSettings
from modeling.train import CHAMPION_KEPT
from modeling.train import run as train
from tests.api.conftest import ADMIN_TOKEN, uvicorn_server
from tests.conftest import REPO_ROOT


def with_champion(version_dir: Path, models_dir: Path) -> Path:
    """A models folder whose models/current is a copy of `version_dir` (no history)."""
    models_dir.mkdir(parents=True)
    shutil.copytree(version_dir, models_dir / version_dir.name)
    (models_dir / "current").symlink_to(version_dir.name)
    return models_dir


def outcome(models_dir: Path, key: str) -> tuple[str, dict]:
    """(version, metrics.json) of the newest run of model `key` in models_dir."""
    newest = sorted(models_dir.glob(f"*-{key}/metrics.json"))[-1]
    return newest.parent.name, json.loads(newest.read_text())


@pytest.fixture(scope="module")
def small(warehouse, feature_store) -> dict:
    return dict(
        features_dir=warehouse.features_dir,
        feast_data_dir=feature_store.feast_data_dir,
        cv_folds=2,
        cv_max_rows=3000,
        permutation_rows=200,
    )


@pytest.fixture(scope="module")
def weak_challenger(trained_models, small, tmp_path_factory):
    """The session's XGBoost in models/current; a Logistic Regression on 300 rows trained."""
    champion = (trained_models / "current").resolve()
    models_dir = with_champion(champion, tmp_path_factory.mktemp("weak") / "models")
    weak = dict(models=("lr",), max_train_rows=300, models_dir=models_dir)
    status = train(TrainSettings(**weak, **small))
    return models_dir, champion.name, status


@pytest.fixture(scope="module")
def strong_challengers(weak_challenger, small, tmp_path_factory):
    """The weak model in models/current; an XGBoost trained with a margin of 1000 CV sd, then
    one with the default margin (1 sd)."""
    weak_dir, _, _ = weak_challenger
    weak, _ = outcome(weak_dir, "lr")
    models_dir = with_champion(weak_dir / weak, tmp_path_factory.mktemp("strong") / "models")
    strong = dict(models=("xgb",), max_train_rows=3000, models_dir=models_dir, **small)
    blocked = train(TrainSettings(champion_margin_sd=1000, **strong))
    blocked_version, _ = outcome(models_dir, "xgb")
    promoted = train(TrainSettings(**strong))
    return models_dir, weak, (blocked, blocked_version), promoted


def test_the_first_model_is_promoted_and_recorded(trained_models):
    """No champion: today's rule (beat recency) decides, and the history says so."""
    version = (trained_models / "current").resolve().name
    metrics = json.loads((trained_models / version / "metrics.json").read_text())
    assert metrics["promotion"]["promoted"] is True
    assert metrics["promotion"]["reason"].startswith("first model")
    [entry] = promotions.read(trained_models)
    assert (entry["action"], entry["version"], entry["previous"]) == ("promote", version, None)


def test_a_worse_challenger_is_not_promoted(weak_challenger):
    models_dir, champion, status = weak_challenger
    assert status == CHAMPION_KEPT == 0  # not an error: `make pipeline` goes on
    assert promotions.current_version(models_dir) == champion
    assert not promotions.history_path(models_dir).exists()  # nothing switched
    _, metrics = outcome(models_dir, "lr")
    verdict = metrics["promotion"]
    assert verdict["promoted"] is False and verdict["champion"] == champion
    assert verdict["reason"].startswith("champion kept")
    figures = verdict["figures"]
    assert figures["challenger"]["pr_auc"] < figures["champion"]["pr_auc"]
    assert {"pr_auc", "roc_auc"} <= set(figures["champion"])
    # compared on the challenger's test date and rows, where the champion was tested too:
    # the champion scores there exactly what its own training run measured
    meta = json.loads((models_dir / champion / "metadata.json").read_text())
    assert verdict["compared_on"] == meta["as_of_range"]["test"]
    assert figures["champion"]["pr_auc"] == pytest.approx(meta["metrics"]["pr_auc"], abs=1e-12)
    assert figures["challenger"]["pr_auc"] == metrics["models"]["lr"]["test"]["pr_auc"]


def test_a_better_challenger_is_promoted_and_recorded(strong_challengers):
    models_dir, weak, _, status = strong_challengers
    version, metrics = outcome(models_dir, "xgb")
    assert status == 0 and promotions.current_version(models_dir) == version
    verdict = metrics["promotion"]
    figures = verdict["figures"]
    assert verdict["reason"].startswith("beat the champion")
    assert figures["difference"] > figures["margin"] == figures["spread"] > 0
    assert figures["spread"] == metrics["models"]["xgb"]["cv"]["pr_auc"]["sd"]
    [entry] = promotions.read(models_dir)
    assert entry["action"] == "promote"
    assert (entry["version"], entry["previous"]) == (version, weak)
    assert entry["reason"] == verdict["reason"] and entry["figures"] == figures
    assert entry["compared_on"] == verdict["compared_on"]


def test_the_margin_setting_can_keep_a_better_champion(strong_challengers):
    """The same better challenger, asked to win by 1000 CV sd, leaves the champion in place."""
    models_dir, weak, (status, version), _ = strong_challengers
    assert status == CHAMPION_KEPT
    verdict = json.loads((models_dir / version / "metrics.json").read_text())["promotion"]
    figures = verdict["figures"]
    assert verdict["promoted"] is False and verdict["champion"] == weak
    assert 0 < figures["difference"] < figures["margin"] == pytest.approx(1000 * figures["spread"])
    assert version not in {e["version"] for e in promotions.read(models_dir)}


def test_a_champion_fitted_on_the_test_date_is_kept(trained_models, small, tmp_path):
    """A backtest on the champion's own validation date: no date is unseen by both models,
    so nothing is compared and the champion stays (force_promote would override)."""
    champion = (trained_models / "current").resolve()
    meta = json.loads((champion / "metadata.json").read_text())
    seen = date.fromisoformat(meta["as_of_range"]["validation"][1])
    models_dir = with_champion(champion, tmp_path / "models")
    status = train(
        TrainSettings(
            models=("lr",), max_train_rows=300, test_as_of=seen, models_dir=models_dir, **small
        )
    )
    assert status == CHAMPION_KEPT
    assert promotions.current_version(models_dir) == champion.name
    verdict = outcome(models_dir, "lr")[1]["promotion"]
    assert verdict["promoted"] is False and verdict["figures"] is None
    assert f"was fitted on {seen}" in verdict["reason"] and "force_promote" in verdict["reason"]


def test_the_margin_rule():
    """Strictly more than multiplier × spread; multiplier 0 = any improvement."""
    assert ChampionMargin("pr_auc", 0.72, 0.70, spread=0.01, multiplier=1.0).passed
    assert not ChampionMargin("pr_auc", 0.72, 0.70, spread=0.03, multiplier=1.0).passed
    assert not ChampionMargin("pr_auc", 0.72, 0.70, spread=0.01, multiplier=2.5).passed
    assert ChampionMargin("pr_auc", 0.7001, 0.70, spread=0.05, multiplier=0).passed
    assert not ChampionMargin("pr_auc", 0.70, 0.70, spread=0.05, multiplier=0).passed


def test_rollback_restores_the_previous_model_and_the_api_serves_it_after_reload(
    strong_challengers, feature_store, tmp_path, monkeypatch
):
    source, weak, _, _ = strong_challengers
    models_dir = tmp_path / "models"
    shutil.copytree(source, models_dir, symlinks=True)
    promoted = promotions.current_version(models_dir)
    monkeypatch.setenv("API_ADMIN_TOKEN", ADMIN_TOKEN)  # the server's and the command's
    with uvicorn_server(models_dir, feature_store, tmp_path / "server.log") as (base_url, _):
        card = httpx.get(f"{base_url}/model", timeout=30).json()
        assert card["version"] == promoted
        assert card["promotion"]["action"] == "promote"
        assert card["promotion"]["previous"] == weak
        assert card["promotion"]["reason"].startswith("beat the champion")
        result = subprocess.run(
            [sys.executable, "-m", "modeling.rollback", "--models-dir", str(models_dir),
             "--api-url", base_url, "--reason", "bad scores"],
            cwd=REPO_ROOT, env=os.environ, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        assert f"rolled back: models/current → {weak} (was {promoted})" in result.stdout
        assert f"API reloaded: serving {weak} (was {promoted})" in result.stdout
        card = httpx.get(f"{base_url}/model", timeout=30).json()
    assert card["version"] == weak
    assert card["promotion"]["action"] == "rollback"
    assert card["promotion"]["reason"] == f"rollback from {promoted}: bad scores"
    assert card["promotion"]["previous"] == promoted
    assert promotions.current_version(models_dir) == weak
    assert [e["action"] for e in promotions.read(models_dir)] == ["promote", "rollback"]
    # this history knows nothing the weak model replaced: a second rollback changes nothing
    assert rollback(["--models-dir", str(models_dir)]) == REFUSED
    assert promotions.current_version(models_dir) == weak
    assert len(promotions.read(models_dir)) == 2
