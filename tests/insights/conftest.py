"""Two real pipelines for GET /insights: the generator's default process and the same log with
--no-segment-effects, each generated and built by dbt into its own temporary folders.

The samples are `make sample`'s (20,000 customers, seed 42): the smallest that kept every
verdict of test_claims.py right on seeds 1–6 and 42. At 10,000 customers claim (a) (high
spenders are 5 % of customers) or (c) was not supported on 3 seeds of 6. The dbt grid is cut
to the latest as-of date and the one before it (snapshot_count 1), the one whose 30-day
window has closed: the date the claims are checked on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.conftest import BIN, Warehouse, build_warehouse, run

SAMPLE_CUSTOMERS = 20_000
SAMPLE_SEED = 42
GRID = ("--vars", "{snapshot_count: 1}")


def build_sample(root: Path, *flags: str) -> Warehouse:
    raw = root / "raw"
    run(
        [str(BIN / "python"), "-m", "ingest.generate", "--customers", str(SAMPLE_CUSTOMERS),
         "--seed", str(SAMPLE_SEED), "--out", str(raw), "--as-of-count", "1", "--no-progress",
         *flags],
    )  # fmt: skip
    return build_warehouse(raw, root, *GRID)


@pytest.fixture(scope="session")
def with_effects(tmp_path_factory) -> Warehouse:
    return build_sample(tmp_path_factory.mktemp("insights-default"))


@pytest.fixture(scope="session")
def without_effects(tmp_path_factory) -> Warehouse:
    return build_sample(tmp_path_factory.mktemp("insights-null"), "--no-segment-effects")


def mart(warehouse: Warehouse) -> Path:
    return warehouse.features_dir / "segment_repeat_rates.parquet"


@contextmanager
def insights_client(segment_rates: Path, tmp_path: Path, **settings) -> Iterator[TestClient]:
    """The real app reading `segment_rates`; no model is needed (its models folder is empty)."""
    models = tmp_path / "no-models"
    models.mkdir(exist_ok=True)
    app = create_app(
        Settings(segment_rates_path=segment_rates, models_dir=models, _env_file=None, **settings)
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
