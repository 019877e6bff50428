"""A bounded load run against the real server: `uvicorn api.main:app` in its own process on a
free loopback port, the session's trained model and SQLite online store, predict-by-id at a
fixed modest rate from an async client. Every request must succeed, and the server's resident
memory must not keep growing from one run to the next once warmed up.

Speed is not asserted here (a busy CI box is slow, not wrong): bench/ measures it.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.api.conftest import uvicorn_server

pytestmark = pytest.mark.slow

RATE = 100  # requests per second, fixed: open loop, whatever the latency
WARM_UP_SECONDS = 4
RUN_SECONDS = 6
RUNS = 3  # after the warm-up: 18 s of measured load
CONNECTIONS = 16
MAX_GROWTH_BYTES = 30 * 1024 * 1024


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


@pytest.fixture(scope="module")
def server(trained_models, feature_store, tmp_path_factory):
    """Our own uvicorn process (the shared live_server does not expose its pid)."""
    log_path = tmp_path_factory.mktemp("load") / "server.log"
    with uvicorn_server(trained_models, feature_store, log_path, "--no-access-log") as server:
        yield server


async def _one(client: httpx.AsyncClient, customer_id: str, n: int) -> str:
    """One predict-by-id (alternating the two routes); "ok" or what went wrong."""
    try:
        if n % 2:
            response = await client.post("/predict", json={"customer_id": customer_id})
        else:
            response = await client.get(f"/customers/{customer_id}/prediction")
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}"
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    body = response.json()
    if body["customer_id"] != customer_id or not 0 <= body["probability"] <= 1:
        return f"wrong answer for {customer_id}: {body}"
    return "ok"


async def _load(base_url: str, ids: list[str], seconds: float) -> Counter:
    """Requests started every 1/RATE s for `seconds` (open loop), at most CONNECTIONS open."""
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        start = time.monotonic()
        tasks = []
        for n, customer_id in enumerate(itertools.cycle(ids)):
            due = start + n / RATE
            if due - start >= seconds:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            tasks.append(asyncio.create_task(_one(client, customer_id, n)))
        return Counter(await asyncio.gather(*tasks))


@pytest.fixture(scope="module")
def online_ids(warehouse) -> list[str]:
    """Every customer with a row at the latest as-of date: all are in the online store, and
    so many distinct ids would show a per-customer cache or table that is never bounded."""
    features = pd.read_parquet(
        warehouse.features_dir / "customer_features.parquet",
        columns=["customer_id", "event_timestamp"],
    )
    latest = features[features["event_timestamp"] == features["event_timestamp"].max()]
    ids = sorted(latest["customer_id"])
    assert len(ids) > 500
    return ids


def test_steady_load_has_no_errors_and_memory_does_not_grow(server, online_ids):
    base_url, process = server
    warm = asyncio.run(_load(base_url, online_ids, WARM_UP_SECONDS))
    assert set(warm) == {"ok"}, warm
    baseline = rss_bytes(process.pid)

    after: list[int] = []
    for _ in range(RUNS):
        outcome = asyncio.run(_load(base_url, online_ids, RUN_SECONDS))
        # zero errors: every request of the run was answered 200 with a probability
        assert outcome == Counter({"ok": RATE * RUN_SECONDS}), outcome
        assert process.poll() is None, "the server died under load"
        after.append(rss_bytes(process.pid))

    mib = [round(b / 2**20, 1) for b in [baseline, *after]]
    assert max(after) - baseline < MAX_GROWTH_BYTES, f"RSS MiB after warm-up, then per run: {mib}"
