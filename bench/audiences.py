"""GET /audiences and GET /audiences.csv over a million scored customers, over real HTTP.

    python -m bench.audiences [--customers 1000000] [--duration 20] [--connections 1,8]
                              [--workers 2] [--csv-customers 100000] [--json FILE]

Writes a customer_scores file of --customers made-up rows (tests/audiences/scores.py: the
contract's columns, realistic tiers, bands and categories), starts the real server
(`python -m api`, N workers) reading it through API_SCORES_PATH on a free loopback port, and
warms every worker (each loads its own in-memory copy of the file on its first request). Then:

- the top-100 page of filtered audiences (wrk, cycling through ten filter combinations:
  tier, probability range, category, spend band, recency band, location, payment method)
  at each connection count: requests/s and p50/p99/p99.9; goal p99 ≤ 50 ms; then the same
  for three audiences sorted by another column (spend, recency, orders);
- the CSV of the ~--csv-customers highest-probability customers (min_probability set to the
  quantile that selects that many), downloaded whole several times: seconds and MB/s; goal
  ≤ 5 s for 100,000 customers;
- the server's RSS (all processes) once warm and after the load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pyarrow.compute as pc

from bench.serving import _tree_rss_mb, _wrk
from ingest.paths import REPO_ROOT
from tests.audiences.scores import scores_table, write_scores
from tests.support.services import free_port, stop, wait_until_ready

# the filtered audiences whose first page is timed (each a marketer's plausible question)
QUERIES = [
    {"tier": "high"},
    {"tier": "high", "favourite_category": "groceries"},
    {"tier": "high,medium", "location": "Mumbai"},
    {"tier": "medium", "aov_band": "₹5,000–30,000", "recency_band": "31–90 days"},
    {"min_probability": 0.45, "max_probability": 0.7, "payment_method": "upi"},
    {"favourite_category": ["electronics", "fashion"], "location": "Delhi"},
    {"tier": "high", "aov_band": "over ₹30,000"},
    {"recency_band": "30 days or less", "payment_method": "card", "page": 3},
    {"tier": "medium", "favourite_category": "books", "location": "Pune"},
    {},
]
# the same by another column than probability: a top-N over every matching row (slower)
SORTED_QUERIES = [
    {"tier": "low", "recency_band": "over 180 days", "sort": "avg_order_value"},
    {"tier": "low", "sort": "recency_days", "order": "asc"},
    {"tier": "high", "location": "Pune", "sort": "orders_count"},
]
LUA = r"""
local paths = {%(paths)s}
local counter = 0
function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) %% 100000)
  counter = math.random(#paths)
end
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\"requests\": %%d, \"duration_us\": %%d, \"connect\": %%d, \"read\": %%d, " ..
    "\"write\": %%d, \"status\": %%d, \"timeout\": %%d, \"p50\": %%d, \"p90\": %%d, " ..
    "\"p99\": %%d, \"p999\": %%d, \"max\": %%d, \"mean\": %%.1f, \"late\": 0}\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
"""


def _path(params: dict) -> str:
    return "/audiences?" + urlencode({"limit": 100, **params}, doseq=True)


def _warm(base_url: str, workers: int, seconds: float = 300) -> None:
    """Every worker loads its own copy on its first request: ask on fresh connections (the
    kernel spreads them over the workers' sockets) until every answer comes back quickly."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        slowest = 0.0
        for _ in range(workers * 16):
            started = time.perf_counter()
            httpx.get(f"{base_url}/audiences?limit=100&tier=high", timeout=120).raise_for_status()
            slowest = max(slowest, time.perf_counter() - started)
        if slowest < 0.5:
            return
    raise RuntimeError(f"the workers were still loading the scores after {seconds} s")


def _csv(base_url: str, min_probability: float, repeats: int) -> dict[str, Any]:
    seconds, rows, size = [], 0, 0
    for _ in range(repeats):
        started = time.perf_counter()
        size = rows = 0
        with httpx.stream(
            "GET", f"{base_url}/audiences.csv", params={"min_probability": min_probability},
            timeout=120,
        ) as response:  # fmt: skip
            response.raise_for_status()
            for chunk in response.iter_bytes():
                size += len(chunk)
                rows += chunk.count(b"\n")
        seconds.append(time.perf_counter() - started)
    return {
        "customers": rows - 1,
        "mb": round(size / 1e6, 1),
        "seconds": {
            "min": round(min(seconds), 3),
            "median": round(statistics.median(seconds), 3),
            "max": round(max(seconds), 3),
            "n": len(seconds),
        },
        "goal": "≤ 5 s for 100,000 customers (issue 16)",
    }


def run(
    customers: int = 1_000_000,
    duration: int = 20,
    connections: tuple[int, ...] = (1, 8),
    workers: int = 2,
    csv_customers: int = 100_000,
    csv_repeats: int = 3,
) -> dict[str, Any]:
    result: dict[str, Any] = {"customers": customers, "workers": workers,
                              "load_before": os.getloadavg()}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench_audiences_") as tmp:
        started = time.perf_counter()
        table = scores_table(customers)
        scores = write_scores(Path(tmp) / "customer_scores.parquet", table)
        result["write_scores_s"] = round(time.perf_counter() - started, 1)
        result["scores_file_mb"] = round(scores.stat().st_size / 1e6, 1)
        probability = table["probability"]
        threshold = pc.quantile(probability, q=1 - csv_customers / customers)[0].as_py()
        del table, probability
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "API_SCORES_PATH": str(scores), "API_HOST": "127.0.0.1",
               "API_PORT": str(port), "API_WORKERS": str(workers)}  # fmt: skip
        log_path = Path(tmp) / "server.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "api"], cwd=REPO_ROOT, env=env, stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_until_ready(base_url, process, seconds=300, path="/audiences?limit=1")
            scripts = {}
            for name, queries in (("page", QUERIES), ("other_sort", SORTED_QUERIES)):
                scripts[name] = Path(tmp) / f"{name}.lua"
                paths = ",".join(json.dumps(_path(q)) for q in queries)
                scripts[name].write_text(LUA % {"paths": paths})
            _warm(base_url, workers)
            result["rss_mb_warm"] = round(_tree_rss_mb(process.pid), 1)
            for name, queries in (("page", QUERIES), ("other_sort", SORTED_QUERIES)):
                result[name] = {
                    "queries": [_path(q) for q in queries],
                    "runs": [
                        _wrk(base_url, scripts[name], c, duration, threads=2) for c in connections
                    ],
                }
            result["page"]["goal"] = "p99 ≤ 50 ms for a filtered top-100 page (issue 16)"
            result["csv"] = _csv(base_url, threshold, csv_repeats)
            result["rss_mb_after"] = round(_tree_rss_mb(process.pid), 1)
        finally:
            stop(process)
        errors = [line for line in log_path.read_text().splitlines() if '"level": "ERROR"' in line]
        result["server_error_lines"] = len(errors)
        result["server_errors"] = [line[:300] for line in errors[:5]]
    result["load_after"] = os.getloadavg()
    return result


def _table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['customers']:,} scored customers ({result['scores_file_mb']} MB Parquet), "
        f"{result['workers']} workers; server RSS {result['rss_mb_warm']} MB warm, "
        f"{result['rss_mb_after']} MB after; error lines in the server log: "
        f"{result['server_error_lines']}",
        "",
        "GET /audiences, filtered top-100 pages, highest probability first "
        f"({len(result['page']['queries'])} filter combinations):",
        f"{'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'errors':>7}",
    ]
    for name in ("page", "other_sort"):
        if name == "other_sort":
            lines += ["", "the same, sorted by another column (order by a number, then id):"]
        for r in result[name]["runs"]:
            lat = r["latency_ms"]
            lines.append(
                f"{r['connections']:>5} {r['requests_per_s']:>9.1f} {lat['p50']:>8.2f} "
                f"{lat['p99']:>8.2f} {lat['p999']:>9.2f} {r['errors']:>7}"
            )
    csv = result["csv"]
    s = csv["seconds"]
    lines += [
        "",
        f"GET /audiences.csv: {csv['customers']:,} customers, {csv['mb']} MB in "
        f"{s['min']}/{s['median']}/{s['max']} s (min/median/max of {s['n']})",
    ]
    return "\n".join(lines)


def markdown(result: dict[str, Any]) -> list[str]:
    """The section of bench/results.md (bench.report's renderer for "audiences")."""
    return [
        "## Audiences (GET /audiences, GET /audiences.csv)",
        "",
        "`python -m bench.audiences`: the live server (`python -m api`) over made-up scored "
        "customers; latency by wrk; load average before "
        f"{'/'.join(f'{x:.2f}' for x in result['load_before'])}.",
        "",
        "```",
        _table(result),
        "```",
        "",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.audiences",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument("--connections", default="1,8", help="comma-separated, e.g. 1,8")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--csv-customers", type=int, default=100_000)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    result = run(
        customers=args.customers,
        duration=args.duration,
        connections=tuple(int(c) for c in args.connections.split(",")),
        workers=args.workers,
        csv_customers=args.csv_customers,
    )
    print(_table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
