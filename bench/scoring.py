"""Every customer scored, with reasons: `python -m scoring` over a synthetic million customers.

`python -m bench.scoring [--customers 1000000] [--features data/features/...]
[--models-dir models]`

No pipeline run at that scale is needed: the latest as-of date of an existing
customer_features mart is repeated up to `--customers` rows, each copy with its own id and its
numbers perturbed (×0.8–1.2, integers rounded, missing values kept missing), so the model sees
a spread of inputs rather than 1,200 rows a thousand times. The command then runs as a child
process, exactly as `make score` runs it; its wall time and peak RSS are reported.
Reference: 1,000,000 customers in ≤ 60 s with reasons (issue 16).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest.paths import REPO_ROOT, pipeline_paths

REFERENCE = "≤ 60 s for 1,000,000 customers with reasons (issue 16)"
ROW_GROUP = 100_000


def synthetic_features(source: Path, customers: int, out: Path, seed: int = 16) -> Path:
    """`customers` rows of `source`'s latest as-of date, repeated and perturbed."""
    table = pq.read_table(source)
    latest = pc.max(table.column("as_of_date"))
    base = table.filter(pc.equal(table.column("as_of_date"), latest))
    rng = np.random.default_rng(seed)
    with pq.ParquetWriter(out, base.schema) as writer:
        for start in range(0, customers, ROW_GROUP):
            n = min(ROW_GROUP, customers - start)
            picked = base.take(pa.array(rng.integers(0, base.num_rows, n)))
            columns = {}
            for field in base.schema:
                column = picked.column(field.name)
                if field.name == "customer_id":
                    column = pa.array([f"SYN-{start + i:08d}" for i in range(n)], pa.string())
                elif pa.types.is_floating(field.type) or pa.types.is_integer(field.type):
                    values = column.to_numpy(zero_copy_only=False).astype(np.float64)
                    values = values * rng.uniform(0.8, 1.2, n)
                    if pa.types.is_integer(field.type):
                        values = np.round(values)
                    column = pa.array(values, mask=column.is_null().to_numpy(zero_copy_only=False))
                    column = column.cast(field.type)
                columns[field.name] = column
            writer.write_table(pa.table(columns, schema=base.schema))
    return out


def run(customers: int, features: Path, models_dir: Path, workdir: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-scoring-", dir=workdir) as tmp:
        started = time.perf_counter()
        synthetic = synthetic_features(features, customers, Path(tmp) / "customer_features.parquet")
        generated = time.perf_counter() - started
        cmd = [
            sys.executable, "-m", "scoring", "--no-progress", "--features", str(synthetic),
            "--model", str(models_dir / "current"), "--out", str(Path(tmp) / "scores"),
        ]  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        result = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(f"python -m scoring failed:\n{result.stderr[-3000:]}")
        peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
        scored = pq.read_metadata(Path(tmp) / "scores" / "customer_scores.parquet").num_rows
    return {
        "customers": scored,
        "seconds": round(seconds, 1),
        "rows_per_second": round(scored / seconds),
        "peak_rss_mb": round(peak),
        "synthetic_features_s": round(generated, 1),
        "command_output": result.stdout.strip().splitlines(),
        "reference": REFERENCE,
    }


def markdown(d: dict) -> list[str]:
    """The section for bench/results.md (bench.report's renderers)."""
    return [
        "## Every customer scored (`python -m scoring`)",
        "",
        f"{d['customers']:,} synthetic customers with reasons: **{d['seconds']:.1f} s** "
        f"({d['rows_per_second']:,} rows/s), peak RSS {d['peak_rss_mb']:,} MB. "
        f"Reference: {d['reference']}.",
        "",
    ]


def main(argv: list[str] | None = None) -> None:
    paths = pipeline_paths()
    parser = argparse.ArgumentParser(
        prog="python -m bench.scoring",
        description="Time `python -m scoring` (every customer, with reasons) on a synthetic "
        "features file of --customers rows made from an existing mart's latest date.",
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument(
        "--features", type=Path, default=paths.features_dir / "customer_features.parquet"
    )
    parser.add_argument("--models-dir", type=Path, default=paths.models_dir)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.customers, args.features, args.models_dir), indent=2))


if __name__ == "__main__":
    main()
