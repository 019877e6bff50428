"""The API serves from the pipeline's models folder unless told otherwise: training promotes
into MODELS_DIR, so a MODELS_DIR set for the pipeline is where the API looks too."""

from __future__ import annotations

from api.settings import Settings
from ingest.paths import REPO_ROOT


def test_models_dir_is_the_pipelines_unless_the_api_overrides_it(monkeypatch, tmp_path):
    monkeypatch.delenv("API_MODELS_DIR", raising=False)
    monkeypatch.delenv("MODELS_DIR", raising=False)
    assert Settings(_env_file=None).models_dir == REPO_ROOT / "models"
    monkeypatch.setenv("MODELS_DIR", str(tmp_path / "pipeline"))
    assert Settings(_env_file=None).model_dir == tmp_path / "pipeline" / "current"
    monkeypatch.setenv("API_MODELS_DIR", str(tmp_path / "api"))
    assert Settings(_env_file=None).models_dir == tmp_path / "api"
