"""Online store benchmark: stock Feast materialization vs ours, and online lookup latency.

    python -m bench.feature_store --customers 1000000 --online both --features-dir data/features

The customers are synthesized from a real dbt mart (`--features-dir`, else a 5,000-customer
sample is generated and built here): its latest as-of rows are replicated under new ids, and
every DOUBLE is nudged per copy (x · (1 + k·1e-9)) so values stay as distinct as in real data
(no unfair help for per-distinct-value encoding). The file holds one as-of date.

Stock = `store.materialize(start, end)` over the latest as-of window (Feast's offline read,
`_convert_arrow_to_proto`, `online_write_batch`). It takes minutes at 1M, so `--stock-sample N`
times it on the first N customers and extrapolates linearly (said so in the output).
Ours = `feature_repo.materialize.materialize_latest(store, full=True)` on an empty store.
Lookups: in process, p50/p99 of single-customer and 100-customer calls, through
`feature_repo.lookup.get_online_features` and raw `store.get_online_features`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import duckdb

from feature_repo.contract import mart_columns
from tests.support import services


# ---- data ------------------------------------------------------------------------------------
def synthesize(source_dir: Path, out_dir: Path, customers: int) -> Path:
    """A customer_features.parquet with `customers` rows at the source's latest as-of date."""
    src = source_dir / "customer_features.parquet"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "customer_features.parquet"
    selects = []
    for c in mart_columns("customer_features"):
        if c.name == "customer_id":
            selects.append("printf('B%09d', g.n) as customer_id")
        elif c.data_type == "double":  # copy k of a row: x · (1 + k·1e-9)
            selects.append(f"{c.name} * (1 + g.k * 1e-9) as {c.name}")
        else:
            selects.append(c.name)
    duckdb.sql(
        f"""
        copy (
          with latest as (
            select *, row_number() over (order by customer_id) - 1 as i
            from read_parquet('{src}')
            where event_timestamp = (select max(event_timestamp) from read_parquet('{src}'))
          ), g as (
            select n, n % (select count(*) from latest) as j,
                   n // (select count(*) from latest) as k  -- which copy of the row
            from range({customers}) t(n)
          )
          select {", ".join(selects)}
          from g join latest on latest.i = g.j
          order by g.n
        ) to '{out}' (format parquet)
        """
    )
    return out_dir


def sample_features() -> Path:
    """Generate and dbt-build a small sample when no mart is given."""
    from bench.stack import Stack

    stack = Stack(Path(tempfile.mkdtemp(prefix="bench_fs_sample_")))
    stack.generate(5000, seed=1)
    stack.dbt_build()
    return stack.features_dir


def head(features_dir: Path, out_dir: Path, n: int) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    src = features_dir / "customer_features.parquet"
    duckdb.sql(
        f"copy (select * from read_parquet('{src}') order by customer_id limit {n}) "
        f"to '{out_dir / 'customer_features.parquet'}' (format parquet)"
    )
    return out_dir


# ---- stores ----------------------------------------------------------------------------------
@contextmanager
def redis_server(url: str | None):
    """Yield host:port of a Redis: the given one, or a throwaway redis-server."""
    if url:
        yield url
        return
    workdir = tempfile.mkdtemp(prefix="bench_redis_")
    try:
        with services.redis_server(Path(workdir)) as address:
            yield address
    except services.ServiceMissing as exc:
        raise SystemExit(str(exc)) from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _fresh_store(kind: str, root: Path, features_dir: Path, redis_url: str | None):
    from feature_repo.store import apply_definitions, open_store

    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    if kind == "redis":
        import redis

        host, port = redis_url.split(":")
        redis.Redis(host=host, port=int(port)).flushall()
    store = open_store(data_dir=root, redis_url=redis_url if kind == "redis" else None)
    apply_definitions(store, features_dir=features_dir)
    return store


def _latest(features_dir: Path):
    src = features_dir / "customer_features.parquet"
    return duckdb.sql(f"select max(event_timestamp) from read_parquet('{src}')").fetchall()[0][0]


# ---- measurements ----------------------------------------------------------------------------
def _stats(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50_ms": pick(0.50) * 1e3, "p99_ms": pick(0.99) * 1e3}


def measure_lookups(store, ids: list[str], singles: int, batches: int) -> dict[str, dict]:
    from feature_repo.lookup import get_online_features
    from feature_repo.store import feature_service

    service = feature_service(store)

    def raw(chosen):
        return store.get_online_features(
            features=service, entity_rows=[{"customer_id": c} for c in chosen]
        ).to_dict()

    def wrapped(chosen):
        return get_online_features(store, chosen)

    out = {}
    for name, call in (("wrapper", wrapped), ("raw", raw)):
        for size, rounds in ((1, singles), (100, batches)):
            for i in range(20):  # warm-up
                call(ids[i : i + size])
            samples = []
            for i in range(rounds):
                start = (i * 37) % max(1, len(ids) - size)
                chosen = ids[start : start + size]
                t0 = time.perf_counter()
                call(chosen)
                samples.append(time.perf_counter() - t0)
            out[f"{name}_{size}"] = _percentiles(samples)
    return out


def run(
    customers: int = 1_000_000,
    online: str = "both",
    *,
    features_dir: Path | None = None,
    stock_sample: int | None = 100_000,
    repeats: int = 3,
    redis_url: str | None = None,
    workdir: Path | None = None,
    lookups: int = 2000,
    log=print,
) -> dict:
    """Time stock vs fast materialization and lookups; returns the figures as a dict."""
    from feature_repo.lookup import get_online_features
    from feature_repo.materialize import materialize_latest

    kinds = ["sqlite", "redis"] if online == "both" else [online]
    root = Path(workdir or tempfile.mkdtemp(prefix="bench_feature_store_"))
    source = features_dir or sample_features()
    log(f"synthesizing {customers:,} customers from {source} …")
    data = synthesize(Path(source), root / "features", customers)
    stock_n = min(customers, stock_sample) if stock_sample else customers
    stock_data = head(data, root / "stock_features", stock_n) if stock_n < customers else data
    latest = _latest(data)
    ids = (
        duckdb.sql(
            f"select customer_id from read_parquet('{data / 'customer_features.parquet'}') "
            "using sample 5000 rows (reservoir, 7) order by customer_id"
        )
        .df()["customer_id"]
        .tolist()
    )
    results: dict = {"customers": customers, "stock_customers": stock_n, "stores": {}}
    with redis_server(redis_url if "redis" in kinds else "unused") as url:
        for kind in kinds:
            log(f"[{kind}] stock store.materialize on {stock_n:,} customers …")
            store = _fresh_store(kind, root / f"{kind}_stock", stock_data, url)
            t0 = time.perf_counter()
            store.materialize(
                start_date=latest - timedelta(hours=1), end_date=latest + timedelta(seconds=1)
            )
            stock_s = time.perf_counter() - t0
            ours, cpu = [], []
            for r in range(repeats):
                log(f"[{kind}] materialize_latest on {customers:,} customers, run {r + 1} …")
                store = _fresh_store(kind, root / f"{kind}_ours", data, url)
                cpu0 = time.process_time()
                report = materialize_latest(store, full=True, progress=False)
                cpu.append(time.process_time() - cpu0)
                assert report.customers == customers, report
                ours.append(report.seconds)
            rows = get_online_features(store, [*ids[:20], "NO-SUCH-CUSTOMER"])
            assert all(r.found for r in rows[:-1]) and not rows[-1].found
            assert materialize_latest(store).customers == 0  # incremental: nothing changed
            log(f"[{kind}] lookups …")
            lat = measure_lookups(store, ids, singles=lookups, batches=max(100, lookups // 10))
            stock_full = stock_s * customers / stock_n
            results["stores"][kind] = {
                "stock_seconds_measured": stock_s,
                "stock_seconds": stock_full,
                "stock_extrapolated": stock_n < customers,
                "ours_seconds": _stats(ours),
                "ours_cpu_seconds": _stats(cpu),  # this process only (not redis-server)
                "speedup": stock_full / statistics.median(ours),
                "customers_per_s": customers / statistics.median(ours),
                "lookup": lat,
            }
            shutil.rmtree(root / f"{kind}_stock", ignore_errors=True)
    if workdir is None:
        shutil.rmtree(root, ignore_errors=True)
    return results


def format_table(results: dict) -> str:
    n, sn = results["customers"], results["stock_customers"]
    lines = [
        f"{n:,} customers × 36 features"
        + (f"; stock timed on {sn:,} and extrapolated linearly ×{n / sn:g}" if sn < n else ""),
        "",
        f"{'store':7} {'stock s':>9} {'ours s (min/med/max)':>24} {'speedup':>8} "
        f"{'cust/s':>9} | {'1 cust p50/p99 ms':>20} {'100 cust p50/p99 ms':>21}",
    ]
    for kind, r in results["stores"].items():
        o = r["ours_seconds"]
        star = "*" if r["stock_extrapolated"] else ""
        for via in ("wrapper", "raw"):
            one, hundred = r["lookup"][f"{via}_1"], r["lookup"][f"{via}_100"]
            lat = (
                f"{one['p50_ms']:>9.2f}/{one['p99_ms']:<10.2f} "
                f"{hundred['p50_ms']:>10.2f}/{hundred['p99_ms']:<10.2f}"
            )
            if via == "wrapper":
                lines.append(
                    f"{kind:7} {r['stock_seconds']:>8.1f}{star} "
                    f"{o['min']:>8.1f}/{o['median']:.1f}/{o['max']:.1f}".ljust(42)
                    + f" {r['speedup']:>7.1f}x {r['customers_per_s']:>9,.0f} | {lat} (lookup.py)"
                )
            else:
                lines.append(" " * 78 + f"| {lat} (raw Feast)")
    if sn < n:
        lines.append(f"* extrapolated from {sn:,} customers")
    for kind, r in results["stores"].items():
        c = r["ours_cpu_seconds"]
        lines.append(
            f"{kind}: ours used {c['min']:.1f}/{c['median']:.1f}/{c['max']:.1f} s CPU "
            f"(min/median/max, this process); stock measured {r['stock_seconds_measured']:.1f} s"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.feature_store",
        description="Materialize N customers into the online store (stock Feast vs ours) and "
        "time online lookups. Prints a table.",
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--online", choices=["sqlite", "redis", "both"], default="both")
    parser.add_argument(
        "--features-dir", type=Path, help="a dbt mart folder to replicate (default: build 5k)"
    )
    parser.add_argument(
        "--stock-sample", type=int, default=100_000,
        help="time stock Feast on this many customers and extrapolate (0 = all)",
    )  # fmt: skip
    parser.add_argument("--repeats", type=int, default=3, help="runs of ours (min/median/max)")
    parser.add_argument("--redis-url", help="host:port of a Redis to use (default: start one)")
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: temp)")
    parser.add_argument("--lookups", type=int, default=2000, help="single-customer lookups")
    args = parser.parse_args(argv)
    results = run(
        args.customers, args.online, features_dir=args.features_dir,
        stock_sample=args.stock_sample or None, repeats=args.repeats,
        redis_url=args.redis_url, workdir=args.workdir, lookups=args.lookups,
    )  # fmt: skip
    print(format_table(results))


if __name__ == "__main__":
    main()
