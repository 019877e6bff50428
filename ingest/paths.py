"""Where the project lives on disk: the one definition of the repository root.

Every package (ingest, feature_repo, modeling, api, backfill) and bench/tests find
``dbt_project.yml``, the marts' yml and the default data folders relative to the checkout.
``ingest`` is the lowest layer every other package may import, so the root is defined here and
nowhere else; moving this file is the one change that moves them all.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_FILE = REPO_ROOT / "dbt_project.yml"
