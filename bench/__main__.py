"""`make bench` / `python -m bench --tier s|m|l|xl` (20k, 200k, 1M, 3M customers): every speed
and quality figure beside its reference, written to bench/results.md (for people) and
bench/results.json (for machines).

Benchmarks are not tests: nothing here fails on a slow machine, but a benchmark that crashes
does. Timings are min/median/max of several runs where a run is cheap enough to repeat.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.pipeline import run_measured
from bench.stack import BIN, REPO_ROOT, Stack

TIERS = {"s": 20_000, "m": 200_000, "l": 1_000_000, "xl": 3_000_000}
RESULTS_DIR = REPO_ROOT / "bench"
SECTIONS = (
    "data", "dbt", "backfill", "feature_store", "training", "serving", "scoring", "audiences",
    "pipeline", "stages",
)  # fmt: skip


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": os.getloadavg(),
    }


def spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values),
            "runs": len(values)}  # fmt: skip


def timed_child(cmd: list[str], log: Path, cwd: Path = REPO_ROOT) -> dict:
    """Wall seconds and peak RSS (MB) of this one command, its output into `log`: measured as
    `python -m bench.pipeline` measures a stage, so neither an earlier, bigger child nor this
    process's own peak shows in it."""
    figures = run_measured(cmd, log, cwd=cwd)
    return {"seconds": figures["wall_s"], "peak_rss_mb": figures["peak_rss_kb"] / 1024}


def bench_data(stack: Stack, customers: int) -> dict:
    runs = [
        timed_child(
            [
                str(BIN / "python"),
                "-m",
                "ingest.generate",
                "--customers",
                str(customers),
                "--seed",
                "42",
                "--out",
                str(stack.raw_dir),
                "--no-progress",
            ],
            stack.root / "generate.log",
        )
        for _ in range(2 if customers <= 200_000 else 1)
    ]
    return {
        "customers": customers,
        "generate_s": spread([r["seconds"] for r in runs]),
        "generate_peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "reference": "≤ 120 s and bounded memory for 1,000,000 customers (issue 3)",
    }


def bench_pipeline(customers: int) -> dict:
    """Fresh `make pipeline` wall time on a copy of the repo (the venv is shared)."""
    files = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        copy = Path(tmp) / "repo"
        for name in files:
            source = REPO_ROOT / name
            if source.is_file():
                (copy / name).parent.mkdir(parents=True, exist_ok=True)
                (copy / name).write_bytes(source.read_bytes())
        venv = Path(sys.executable).parent.parent
        (venv / ".installed").touch(exist_ok=True)
        result = timed_child(
            ["make", "pipeline", f"CUSTOMERS={customers}", f"VENV={venv}"],
            Path(tmp) / "make-pipeline.log",
            cwd=copy,
        )
    return {"customers": customers, "make_pipeline_s": result["seconds"]}


def run_tier(tier: str, sections: set[str], scoring_customers: int = 1_000_000) -> dict:
    customers = TIERS[tier]
    results: dict = {
        "tier": tier,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
    }
    with tempfile.TemporaryDirectory(prefix=f"bench-{tier}-") as tmp:
        stack = Stack(Path(tmp) / "stack")
        stack.root.mkdir(parents=True)
        if "data" in sections:
            results["data"] = bench_data(stack, customers)
        elif sections & {"dbt", "backfill", "feature_store"}:  # the others bring their own data
            stack.generate(customers)
        if "dbt" in sections:
            from bench.dbt_vs_duckdb import measure

            results["dbt"] = measure(stack.raw_dir, repeat=3 if tier == "s" else 1)
            results["dbt"]["reference"] = "≤ 90 s and ≤ 1.5× direct DuckDB at 200k customers"
        if "backfill" in sections:
            from bench.backfill import run as backfill_run

            results["backfill"] = backfill_run(stack.raw_dir)
        if "feature_store" in sections:
            from bench.feature_store import run as feature_store_run

            stack.dbt_build()
            results["feature_store"] = feature_store_run(
                customers=customers,
                features_dir=stack.features_dir,
                stock_sample=min(customers, 20_000),
                repeats=3 if tier == "s" else 1,
                workdir=Path(tmp) / "feature_store",
            )
        if "training" in sections:
            from bench.model_quality import online_retail_quality, sample_quality

            results["training"] = {
                "sample": sample_quality(customers, Path(tmp) / "quality"),
                "online_retail": online_retail_quality(Path(tmp) / "quality"),
            }
        if "serving" in sections:
            # the repo's own data/ and models/current: run `make pipeline` first
            from bench.serving import run as serving_run

            # reading the store and scoring on every request, and with the API's default caches
            duration = 30 if tier == "s" else 60
            results["serving"] = {
                "no cache": serving_run(duration=duration, result_cache=0),
                "default": serving_run(duration=duration),
            }
        if "scoring" in sections:
            # every customer scored with the repo's models/current (run `make pipeline` first)
            # on a synthetic features file of --customers rows made from data/features
            from bench.scoring import run as scoring_run
            from ingest.paths import pipeline_paths

            paths = pipeline_paths()
            results["scoring"] = scoring_run(
                scoring_customers,
                paths.features_dir / "customer_features.parquet",
                paths.models_dir,
                Path(tmp),
            )
        if "audiences" in sections:  # 1,000,000 made-up scored customers, whatever the tier
            from bench.audiences import run as audiences_run

            results["audiences"] = audiences_run()
        if "pipeline" in sections:
            results["pipeline"] = bench_pipeline(customers)
        if "stages" in sections:  # every step of make pipeline: wall, CPU, peak RSS
            from bench.pipeline import STAGES
            from bench.pipeline import run as stages_run

            results["stages"] = stages_run(customers, Path(tmp) / "stages", list(STAGES))
    return results


def merge_results(previous_path: Path, fresh: dict) -> dict:
    """The previous results with the freshly run sections replaced; `ran` dates each section.

    Sections run on another tier are not kept: their figures are of another scale.
    """
    ran = dict.fromkeys((s for s in SECTIONS if s in fresh), fresh["date"])
    if not previous_path.exists():
        return {**fresh, "ran": ran}
    previous = json.loads(previous_path.read_text())
    if previous.get("tier") != fresh["tier"]:
        raise SystemExit(
            f"--update: {previous_path} is tier {previous.get('tier')}, this run tier "
            f"{fresh['tier']}; run the whole tier instead"
        )
    earlier = previous.get("ran") or dict.fromkeys(SECTIONS, previous["date"])
    merged = {**previous, **fresh}
    merged["ran"] = {
        s: ran.get(s, earlier.get(s, previous["date"])) for s in SECTIONS if s in merged
    }
    return merged


def write_results(results: dict, out_dir: Path) -> None:
    from bench.report import render_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, default=str))
    (out_dir / "results.md").write_text(render_markdown(results))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run the benchmarks of one scale tier and write bench/results.md and "
        "bench/results.json. Tiers: s = 20,000 customers (minutes), m = 200,000 (~3M "
        "orders), l = 1,000,000 (long).",
    )
    parser.add_argument("--tier", choices=sorted(TIERS), default="s")
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help="comma-separated sections to run (default: all)",
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=1_000_000,
        help="customers of the synthetic features file the scoring section scores "
        "(default: %(default)s, whatever the tier)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="where results go")
    parser.add_argument(
        "--update",
        action="store_true",
        help="keep the sections of <out>/results.json (same tier) that --only does not rerun; "
        "each section says when it ran",
    )
    args = parser.parse_args(argv)
    results = run_tier(args.tier, set(args.only.split(",")), args.customers)
    if args.update:
        results = merge_results(args.out / "results.json", results)
    write_results(results, args.out)
    print((args.out / "results.md").read_text())


if __name__ == "__main__":
    main()
