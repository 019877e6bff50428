"""`python -m orchestration` serves the Dagster UI on loopback with our code location loaded,
keeps its state under --home (telemetry off), and stops on Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from ingest.paths import REPO_ROOT
from tests.support.services import free_port, wait_until_ready

pytestmark = pytest.mark.slow

ASSETS_QUERY = "{ version assetNodes { assetKey { path } } }"


def _graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _stop(server: subprocess.Popen) -> None:
    """Ctrl-C, as a user stops it (dagster dev then stops its webserver, daemon and code
    server); what is left of the process group after 30 s is killed (SIGTERM to dagster dev
    alone would leave those children running)."""
    server.send_signal(signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)  # the group this test started, and only it
    server.wait(timeout=10)


def test_the_ui_serves_the_pipeline(tmp_path, dbt_target):
    port = free_port()
    home = tmp_path / "dagster"
    raw = tmp_path / "raw"
    raw.mkdir()  # empty: the sensor has nothing to start
    env = {**os.environ, "RAW_DIR": str(raw), "HOME": str(tmp_path / "home")}
    log = tmp_path / "dagster-dev.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "orchestration", "--port", str(port), "--home", str(home)],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        try:
            wait_until_ready(base, server, 240, path="/server_info")
        except RuntimeError as exc:
            raise AssertionError(f"{exc}\n{log.read_text()[-4000:]}") from None
        with urllib.request.urlopen(f"{base}/", timeout=30) as response:
            assert response.status == 200
            assert "<html" in response.read().decode().lower()
        while True:  # the code location loads in the background (it parses the dbt project)
            answer = _graphql(base, ASSETS_QUERY)
            keys = {"/".join(node["assetKey"]["path"]) for node in answer["data"]["assetNodes"]}
            if keys or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert {"customer_features", "feast_online_store", "model", "customer_scores",
                "monitoring_report"} <= keys  # fmt: skip
    finally:
        _stop(server)
    assert (home / "dagster.yaml").read_text().count("enabled: false") == 1
    assert (home / "history").is_dir()  # runs and schedules live under --home
    assert not (tmp_path / "home" / ".dagster").exists()  # nothing written to ~
