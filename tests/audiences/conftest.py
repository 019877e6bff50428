"""A made-up customer_scores file of 5,000 customers and the real app reading it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.audiences.scores import scores_table, write_scores

CUSTOMERS = 5_000


@pytest.fixture(scope="session")
def scores_file(tmp_path_factory) -> Path:
    return write_scores(
        tmp_path_factory.mktemp("scores") / "customer_scores.parquet", scores_table(CUSTOMERS)
    )


@pytest.fixture(scope="session")
def frame(scores_file) -> pd.DataFrame:
    return pd.read_parquet(scores_file)


@contextmanager
def audience_client(scores: Path, tmp_path: Path, **settings) -> Iterator[TestClient]:
    """The real app reading `scores`; no model is needed (its models folder is empty)."""
    models = tmp_path / "no-models"
    models.mkdir(exist_ok=True)
    app = create_app(Settings(scores_path=scores, models_dir=models, _env_file=None, **settings))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def client(scores_file, tmp_path) -> Iterator[TestClient]:
    with audience_client(scores_file, tmp_path) as client:
        yield client
