"""API fixtures on top of the suite's session pipeline (tests/conftest.py): the sample →
dbt → Feast (temporary SQLite) → trained XGBoost state is built once; here it is served.

Every app reads only temporary folders. Tests that change the models folder (reload) get
their own copy of it; tests that need a real process or browser share one uvicorn server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.conftest import REPO_ROOT
from tests.support.services import free_port, wait_until_ready

ADMIN_TOKEN = "test-admin-token-0123456789"
CHROMIUM = Path("/usr/bin/chromium")


def copy_models(trained_models: Path, destination: Path) -> Path:
    """A models folder with the promoted version and its own `current` link, to damage."""
    version = (trained_models / "current").resolve()
    destination.mkdir(parents=True)
    shutil.copytree(version, destination / version.name)
    (destination / "current").symlink_to(version.name)
    return destination


@pytest.fixture(scope="session")
def api_settings(trained_models, feature_store) -> Settings:
    return Settings(
        models_dir=trained_models,
        feast_data_dir=feature_store.feast_data_dir,
        admin_token=ADMIN_TOKEN,
        _env_file=None,
    )


@pytest.fixture(scope="session")
def client(api_settings) -> TestClient:
    with TestClient(create_app(api_settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def known_ids(warehouse) -> list[str]:
    """Customers with a row at the latest as-of date (those are online)."""
    features = pd.read_parquet(warehouse.features_dir / "customer_features.parquet")
    latest = features[features["event_timestamp"] == features["event_timestamp"].max()]
    return sorted(latest["customer_id"])[:50]


@contextmanager
def uvicorn_server(trained_models, feature_store, log_path: Path, *flags: str):
    """The real `uvicorn api.main:app` on a free loopback port, configured through API_*;
    yields (base URL, process) once /health answers, stops it afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "API_MODELS_DIR": str(trained_models),
        "API_FEAST_DATA_DIR": str(feature_store.feast_data_dir),
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
             "--port", str(port), *flags],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_ready(base_url, process)
            yield base_url, process
        finally:
            process.terminate()
            process.wait(timeout=20)


@pytest.fixture(scope="session")
def live_server(trained_models, feature_store, tmp_path_factory):
    """The real server for the whole session; yields (base URL, its log file)."""
    log_path = tmp_path_factory.mktemp("uvicorn") / "server.log"
    with uvicorn_server(trained_models, feature_store, log_path) as (base_url, _):
        yield base_url, log_path


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return CHROMIUM
