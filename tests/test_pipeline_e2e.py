"""End to end, as a newcomer runs it: `make pipeline` on a tiny sample, then the real API.

The repo's files are copied to a temporary folder so the run writes its data/ and models/
there; the copy uses this checkout's virtualenv (VENV=…) instead of installing again.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO_ROOT, run
from tests.support.services import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh_checkout(tmp_path_factory) -> Path:
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    target = tmp_path_factory.mktemp("checkout")
    for name in files:
        source = REPO_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def pipeline(fresh_checkout) -> Path:
    venv = Path(sys.executable).parent.parent
    (venv / ".installed").touch(exist_ok=True)  # this interpreter already has the lock installed
    env = {
        k: v for k, v in os.environ.items() if k not in ("RAW_DIR", "DUCKDB_PATH", "FEATURES_DIR")
    }
    result = subprocess.run(
        ["make", "pipeline", "CUSTOMERS=1500", f"VENV={venv}"],
        cwd=fresh_checkout, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "promoted" in result.stdout
    return fresh_checkout


def test_pipeline_writes_every_stage(pipeline):
    assert (pipeline / "data/raw/transactions.parquet").exists()
    assert (pipeline / "data/features/customer_features.parquet").exists()
    assert (pipeline / "data/online_store.db").exists()
    assert (pipeline / "models/current/metadata.json").exists()


def test_pipeline_runs_twice(pipeline):
    venv = Path(sys.executable).parent.parent
    out = run(["make", "pipeline", "CUSTOMERS=1500", f"VENV={venv}"], cwd=pipeline)
    assert "keeping it" in out  # the sample is not regenerated


def test_api_serves_a_prediction_for_a_sample_customer(pipeline):
    customer = pd.read_parquet(pipeline / "data/raw/transactions.parquet")["customer_id"].iloc[0]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:app",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=pipeline, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert server.poll() is None, server.stdout.read()
            assert time.monotonic() < deadline, "the API did not come up in 90 s"
            time.sleep(0.5)
        request = urllib.request.Request(
            f"{base}/predict",
            data=json.dumps({"customer_id": customer}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.load(response)
        assert body["customer_id"] == customer
        assert 0.0 <= body["probability"] <= 1.0
        assert isinstance(body["will_repeat"], bool)
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/customers/NOBODY/prediction", timeout=10)
        assert missing.value.code == 404
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
