"""Serving throughput and latency over real HTTP: the API under `wrk`, by customer id.

    python -m bench.serving [--connections 1,8,32] [--duration 30] [--models-dir DIR]
                            [--port P] [--workers 2] [--method get|post] [--rate 1000]
                            [--result-cache N] [--online sqlite|redis]

Starts the real server (`python -m api`: N workers, one SO_REUSEPORT socket each, uvloop,
httptools, no access log) on a free loopback port, serving the repo's data/ (the Feast store
in force) and <models-dir>/current; picks up to --ids distinct customer ids that the online store
knows (asked through the server's own batch endpoint); then for each connection count runs
`wrk` with a Lua script that cycles through those ids (each wrk thread from its own offset),
and reads requests/s, p50/p90/p99/p99.9 and errors (socket errors + non-2xx) from the script's
`done` summary.

Those runs are closed loops: each connection sends its next request when the last answer
arrives, so latency = connections / throughput (Little's law) and at 32 connections it
measures the queue, not the service. The paced run offers a FIXED rate (default 1,000 req/s)
over 32 connections: wrk's `delay()` hands out send slots on a schedule (read from
CLOCK_MONOTONIC through LuaJIT's ffi), so its latency is the service time at that load, and
`behind_schedule` counts sends that could not keep the schedule (0 = no coordinated omission).
A batch of 1,000 ids is timed too: the server's own time from its request log
line (median of several) and the client's round trip. The server's RSS (all processes) is
read before and after the load. Everything is bounded by timeouts, and the server is stopped
whatever happens. `run(...)` returns the figures as a dict; `main` prints a table.

`--online redis` serves the same features from a real redis-server instead (production's
store): one is started on a free loopback port, the repo's registry is copied beside it and
the latest features are materialized into it (`feature_repo.materialize`) before the server
starts with API_REDIS_URL pointing there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from ingest.paths import REPO_ROOT
from tests.support.services import free_port, redis_server, stop, wait_until_ready

LUA = r"""
local ids = {%(ids)s}
local method = "%(method)s"
local counter = 0
-- paced mode: this thread's share of a fixed request rate (0 = as fast as replies come)
local interval_ms = %(interval_ms)s
local next_ms = nil
late = 0  -- global: read from each thread by done()
local threads = {}
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

-- wrk calls delay() before each request of every connection: hand out send slots on a
-- fixed schedule, so the offered rate does not depend on how fast the server answers
-- (no coordinated omission as long as `late` stays 0)
function delay()
  if interval_ms == 0 then return 0 end
  local now = now_ms()
  if next_ms == nil then next_ms = now end
  next_ms = next_ms + interval_ms
  local wait = next_ms - now
  if wait < 0 then
    late = late + 1
    return 0
  end
  return math.floor(wait)
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) %% 100000)
  counter = math.random(#ids)
end

function request()
  counter = counter + 1
  local id = ids[(counter %% #ids) + 1]
  if method == "post" then
    return wrk.format("POST", "/predict", {["Content-Type"] = "application/json"},
                      '{"customer_id": "' .. id .. '"}')
  end
  return wrk.format("GET", "/customers/" .. id .. "/prediction")
end

function done(summary, latency, requests)
  local e = summary.errors
  local behind = 0
  for _, thread in ipairs(threads) do behind = behind + thread:get("late") end
  io.write(string.format(
    "BENCH_JSON {\"requests\": %%d, \"duration_us\": %%d, \"connect\": %%d, \"read\": %%d, " ..
    "\"write\": %%d, \"status\": %%d, \"timeout\": %%d, \"p50\": %%d, \"p90\": %%d, " ..
    "\"p99\": %%d, \"p999\": %%d, \"max\": %%d, \"mean\": %%.1f, \"late\": %%d}\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean, behind))
end
"""


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (uvicorn master + workers)."""
    total, stack, seen = 0, [pid], set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                stack.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError, AttributeError):
            continue
    return total / 1024


def _candidate_ids(limit: int) -> list[str]:
    """Ids with features at the latest as-of date (the ones materialized online)."""
    features_dir = Path(os.environ.get("FEATURES_DIR", REPO_ROOT / "data" / "features"))
    frame = pd.read_parquet(
        features_dir / "customer_features.parquet", columns=["customer_id", "event_timestamp"]
    )
    latest = frame[frame["event_timestamp"] == frame["event_timestamp"].max()]
    return sorted(latest["customer_id"].astype(str).unique())[: limit * 2]


def _known_ids(base_url: str, limit: int) -> list[str]:
    """Candidate ids the server finds in the online store (through its batch endpoint)."""
    known: list[str] = []
    candidates = _candidate_ids(limit)
    for start in range(0, len(candidates), 1000):
        chunk = candidates[start : start + 1000]
        body = httpx.post(f"{base_url}/predict/batch", json={"customer_ids": chunk}, timeout=120)
        body.raise_for_status()
        known += [i["customer_id"] for i in body.json()["items"] if i["status"] == "ok"]
        if len(known) >= limit:
            break
    if not known:
        raise RuntimeError("the online store knows none of the customers in data/features")
    return known[:limit]


def _server_batch_ms(log_path: Path, after_line: int) -> list[float]:
    """latency_ms of /predict/batch requests in the server's request log after a line."""
    times = []
    for line in log_path.read_text().splitlines()[after_line:]:
        if '"/predict/batch"' in line:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if entry.get("status") == 200:
                times.append(float(entry["latency_ms"]))
    return times


def _batch(base_url: str, ids: list[str], log_path: Path, repeats: int) -> dict[str, Any]:
    batch = (ids * (1000 // len(ids) + 1))[:1000]
    client_ms = []
    before = len(log_path.read_text().splitlines())
    for _ in range(repeats):
        started = time.perf_counter()
        response = httpx.post(f"{base_url}/predict/batch", json={"customer_ids": batch}, timeout=60)
        client_ms.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    time.sleep(0.3)  # the log line is written as the response finishes
    server_ms = _server_batch_ms(log_path, before)
    return {
        "size": len(batch),
        "distinct_ids": len(set(batch)),
        "server_ms": _spread(server_ms),
        "client_ms": _spread(client_ms),
    }


def _spread(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "min": round(min(values), 2),
        "median": round(statistics.median(values), 2),
        "max": round(max(values), 2),
        "n": len(values),
    }


def _wrk(
    base_url: str, script: Path, connections: int, duration: int, threads: int
) -> dict[str, Any]:
    threads = max(1, min(threads, connections))
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
        "--timeout", "5s", "-s", str(script), base_url,
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    match = re.search(r"BENCH_JSON (\{.*\})", out.stdout)
    if out.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout[-2000:]}{out.stderr}")
    raw = json.loads(match.group(1))
    seconds = raw["duration_us"] / 1e6
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"] + raw["status"]
    return {
        "command": " ".join(command),
        "connections": connections,
        "requests": raw["requests"],
        "requests_per_s": round(raw["requests"] / seconds, 1),
        "errors": errors,
        "non_2xx": raw["status"],
        "behind_schedule": raw["late"],
        "latency_ms": {
            k: round(raw[k] / 1000, 3) for k in ("p50", "p90", "p99", "p999", "max", "mean")
        },
    }


def run(
    connections: tuple[int, ...] = (1, 8, 32),
    duration: int = 30,
    models_dir: Path | None = None,
    port: int | None = None,
    workers: int = 2,
    method: str = "get",
    paced_rate: int = 1000,
    paced_connections: int = 32,
    result_cache: int | None = None,
    n_ids: int = 5000,
    batch_repeats: int = 7,
    wrk_threads: int = 2,
    extra_env: dict[str, str] | None = None,
    ready_timeout: float = 300,
) -> dict[str, Any]:
    """Start the server, load it with wrk at each connection count, stop it; the figures."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **(extra_env or {})}
    if models_dir is not None:
        env["API_MODELS_DIR"] = str(Path(models_dir).resolve())
    if result_cache is not None:  # both of the API's caches: scored answers, online features
        env["API_RESULT_CACHE_SIZE"] = str(result_cache)
        env["API_FEATURE_CACHE_SIZE"] = str(result_cache)
    # the production server: one SO_REUSEPORT socket per worker, uvloop, httptools
    env.update(API_HOST="127.0.0.1", API_PORT=str(port), API_WORKERS=str(workers))
    command = [sys.executable, "-m", "api"]
    result: dict[str, Any] = {
        "server_command": f"API_WORKERS={workers} python -m api",
        "load_before": os.getloadavg(),
        "cpus": os.cpu_count(),
        "result_cache": env.get("API_RESULT_CACHE_SIZE", "default (api.settings)"),
    }
    with tempfile.TemporaryDirectory(prefix="bench_serving_") as tmp:
        log_path = Path(tmp) / "server.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            try:
                wait_until_ready(base_url, process, seconds=ready_timeout)
            except RuntimeError as exc:
                tail = "\n".join(log_path.read_text().splitlines()[-20:])
                raise RuntimeError(f"{exc}; server log:\n{tail}") from exc
            model = httpx.get(f"{base_url}/model", timeout=10).json()
            result["model"] = {"version": model["version"], "model": model["model"]}
            ids = _known_ids(base_url, n_ids)
            result["distinct_ids"] = len(ids)
            quoted = ",".join(f'"{i}"' for i in ids)
            script = Path(tmp) / "ids.lua"
            script.write_text(LUA % {"ids": quoted, "method": method, "interval_ms": 0})
            paced = Path(tmp) / "paced.lua"
            paced_threads = min(wrk_threads, paced_connections)
            interval = paced_threads * 1000 / paced_rate if paced_rate else 0
            paced.write_text(LUA % {"ids": quoted, "method": method, "interval_ms": interval})
            # warm every worker (lazy set-up, page cache) before measuring
            _wrk(base_url, script, connections=max(connections), duration=3, threads=wrk_threads)
            result["rss_mb_before"] = round(_tree_rss_mb(process.pid), 1)
            result["runs"] = [_wrk(base_url, script, c, duration, wrk_threads) for c in connections]
            if paced_rate:
                result["paced"] = _wrk(base_url, paced, paced_connections, duration, wrk_threads)
                result["paced"]["offered_per_s"] = paced_rate
            result["batch_1000"] = _batch(base_url, ids, log_path, batch_repeats)
            result["rss_mb_after"] = round(_tree_rss_mb(process.pid), 1)
        finally:
            stop(process)
        errors = [line for line in log_path.read_text().splitlines() if '"level": "ERROR"' in line]
        result["server_error_lines"] = len(errors)
    result["load_after"] = os.getloadavg()
    return result


@contextmanager
def redis_online_store(workdir: Path) -> Iterator[dict[str, str]]:
    """A real Redis holding the repo's latest online features; yields the API's env for it."""
    from feature_repo.materialize import materialize_latest
    from feature_repo.store import open_store

    registry = Path(open_store().config.registry.path)
    data_dir = workdir / "feast"
    data_dir.mkdir(parents=True)
    shutil.copy(registry, data_dir / "registry.db")
    with redis_server(workdir) as url:
        report = materialize_latest(open_store(data_dir=data_dir, redis_url=url))
        if not report.customers:
            raise SystemExit("nothing to materialize into Redis: run `make pipeline` first")
        yield {"API_FEAST_DATA_DIR": str(data_dir), "API_REDIS_URL": url}


def _table(result: dict[str, Any]) -> str:
    lines = [
        f"server: {result['server_command']}",
        f"online store: {result.get('online_store', 'sqlite')}",
        f"result cache: {result['result_cache']}",
        f"model: {result['model']['version']} ({result['model']['model']}); "
        f"{result['distinct_ids']} distinct ids; {result['cpus']} CPUs; load average before "
        f"{'/'.join(f'{x:.2f}' for x in result['load_before'])}, after "
        f"{'/'.join(f'{x:.2f}' for x in result['load_after'])}",
        "",
        f"{'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} "
        f"{'max ms':>8} {'errors':>7}",
    ]
    for r in result["runs"]:
        lat = r["latency_ms"]
        lines.append(
            f"{r['connections']:>5} {r['requests_per_s']:>9.1f} {lat['p50']:>8.2f} "
            f"{lat['p90']:>8.2f} {lat['p99']:>8.2f} {lat['p999']:>9.2f} {lat['max']:>8.2f} "
            f"{r['errors']:>7}"
        )
    paced = result.get("paced")
    if paced:
        lat = paced["latency_ms"]
        lines += [
            "",
            f"paced: {paced['offered_per_s']} req/s offered over {paced['connections']} "
            f"connections → {paced['requests_per_s']:.1f} req/s served, p50 {lat['p50']:.2f} ms, "
            f"p99 {lat['p99']:.2f} ms, p99.9 {lat['p999']:.2f} ms, {paced['errors']} errors, "
            f"{paced['behind_schedule']} sends behind schedule",
        ]
    batch = result["batch_1000"]
    server, client = batch["server_ms"] or {}, batch["client_ms"] or {}
    lines += [
        "",
        f"batch of {batch['size']} ids: server {server.get('min')}/{server.get('median')}/"
        f"{server.get('max')} ms (min/median/max of {server.get('n')}), client round trip "
        f"{client.get('min')}/{client.get('median')}/{client.get('max')} ms",
        f"server RSS (all processes): {result['rss_mb_before']} MB before load, "
        f"{result['rss_mb_after']} MB after; error lines in the server log: "
        f"{result['server_error_lines']}",
        f"wrk: {result['runs'][-1]['command']}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serving", description=__doc__)
    parser.add_argument("--connections", default="1,8,32", help="comma-separated, e.g. 1,8,32")
    parser.add_argument("--duration", type=int, default=30, help="seconds per wrk run")
    parser.add_argument("--models-dir", type=Path, default=None, help="default: models/")
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--method", choices=("get", "post"), default="get")
    parser.add_argument("--ids", type=int, default=5000, help="distinct ids to cycle through")
    parser.add_argument(
        "--rate", type=int, default=1000,
        help="the paced run's fixed request rate over --paced-connections (0: skip it)",
    )  # fmt: skip
    parser.add_argument("--paced-connections", type=int, default=32)
    parser.add_argument(
        "--result-cache", type=int, default=None,
        help="API_RESULT_CACHE_SIZE and API_FEATURE_CACHE_SIZE for the server (0: read the "
        "store and score on every request; default: the API's defaults)",
    )  # fmt: skip
    parser.add_argument(
        "--online", choices=("sqlite", "redis"), default="sqlite",
        help="the repo's online store in force, or a fresh redis-server holding the same "
        "latest features (%(default)s)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_serving_online_") as tmp:
        if args.online == "redis":
            with redis_online_store(Path(tmp)) as env:
                result = _run_from_args(args, env)
        else:
            result = _run_from_args(args, {})
    result["online_store"] = args.online
    print(_table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


def _run_from_args(args: argparse.Namespace, extra_env: dict[str, str]) -> dict[str, Any]:
    return run(
        connections=tuple(int(c) for c in args.connections.split(",")),
        duration=args.duration,
        models_dir=args.models_dir,
        port=args.port,
        workers=args.workers,
        method=args.method,
        paced_rate=args.rate,
        paced_connections=args.paced_connections,
        result_cache=args.result_cache,
        n_ids=args.ids,
        extra_env=extra_env,
    )


if __name__ == "__main__":
    main()
