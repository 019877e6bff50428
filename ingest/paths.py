"""Where the project lives on disk: the repository root and the pipeline's data folders.

Every package (ingest, feature_repo, modeling, api, backfill) and bench/tests find
``dbt_project.yml``, the marts' yml and the default data folders relative to the checkout.
``ingest`` is the lowest layer every other package may import, so the root is defined here and
nowhere else; moving this file is the one change that moves them all.

The data folders are the pipeline's one settings object (``pipeline_paths()``), read from the
same environment variables dbt's ``profiles.yml`` reads (RAW_DIR, DUCKDB_PATH, FEATURES_DIR;
MODELS_DIR and SCORES_DIR beside them), so Python and dbt can never disagree about where the
raw log, the warehouse and the marts are.
Relative values are relative to the checkout, as they are for dbt run from it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_FILE = REPO_ROOT / "dbt_project.yml"


class PipelinePaths(BaseSettings):
    """The data folders every stage shares. Environment names match profiles.yml's env_var."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    raw_dir: Path = REPO_ROOT / "data" / "raw"
    duckdb_path: Path = REPO_ROOT / "data" / "warehouse.duckdb"
    features_dir: Path = REPO_ROOT / "data" / "features"
    models_dir: Path = REPO_ROOT / "models"
    scores_dir: Path = REPO_ROOT / "data" / "scores"

    @field_validator("raw_dir", "duckdb_path", "features_dir", "models_dir", "scores_dir")
    @classmethod
    def _anchor_at_checkout(cls, value: Path) -> Path:
        return (REPO_ROOT / value).resolve()


def pipeline_paths() -> PipelinePaths:
    """Read now, from the environment as it is now (tests and CLIs set it before calling)."""
    return PipelinePaths()
