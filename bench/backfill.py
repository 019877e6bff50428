"""Spark backfill against dbt on the same raw data and as-of grid: time, rows/s, parity.

`python -m bench.backfill --raw-dir data/raw [--every 30] [--count 12] [--master local[2]]`
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds

from bench.stack import Stack

KEYS = ["customer_id", "as_of_date"]


def _spark_table(path: Path) -> pd.DataFrame:
    frame = ds.dataset(path, format="parquet", partitioning="hive").to_table().to_pandas()
    frame["as_of_date"] = pd.to_datetime(frame["as_of_date"].astype(str)).dt.date
    return frame


def parity(dbt: pd.DataFrame, spark: pd.DataFrame) -> dict:
    """Same rows; integers, strings and booleans equal; floats within 1e-9 relative."""
    dbt = dbt.assign(as_of_date=pd.to_datetime(dbt["as_of_date"]).dt.date)
    merged = dbt.merge(spark, on=KEYS, how="outer", suffixes=("_dbt", "_spark"), indicator=True)
    only = int((merged["_merge"] != "both").sum())
    mismatched = {}
    for column in dbt.columns:
        if column in KEYS:
            continue
        a, b = merged[f"{column}_dbt"], merged[f"{column}_spark"]
        if a.dtype.kind == "f" or b.dtype.kind == "f":
            a, b = a.astype(float), b.astype(float)
            same = (a.isna() & b.isna()) | np.isclose(a, b, rtol=1e-9, atol=0)
        else:
            same = (a.isna() & b.isna()) | (a.astype(str) == b.astype(str))
        if int((~same).sum()):
            mismatched[column] = int((~same).sum())
    return {"rows": len(dbt), "rows_in_one_engine_only": only, "columns_differing": mismatched,
            "equal": only == 0 and not mismatched}  # fmt: skip


def run(raw_dir: Path, every: int = 30, count: int = 12, master: str = "local[2]") -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as tmp:
        stack = Stack(Path(tmp) / "stack")
        stack.root.mkdir(parents=True)
        (stack.root / "raw").symlink_to(Path(raw_dir).resolve())
        dbt_seconds = stack.dbt_build(f"{{snapshot_every_days: {every}, snapshot_count: {count}}}")
        dbt_features = pd.read_parquet(stack.features_dir / "customer_features.parquet")
        latest = pd.to_datetime(dbt_features["as_of_date"]).max().date()
        start = latest - timedelta(days=every * count)
        output = Path(tmp) / "backfill"
        spark_seconds = stack.run(
            sys.executable, "-m", "backfill", "--start", start.isoformat(), "--end", "latest",
            "--every", f"{every}d", "--master", master, "--input", str(stack.raw_dir),
            "--output", str(output), "--no-progress",
        )  # fmt: skip
        spark_features = _spark_table(output / "customer_features")
        check = parity(dbt_features, spark_features)
    return {
        "as_of_dates": count + 1,
        "feature_rows": len(dbt_features),
        "master": master,
        "spark_s": spark_seconds,
        "dbt_build_s": dbt_seconds,
        "spark_over_dbt": spark_seconds / dbt_seconds,
        "spark_rows_per_s": len(dbt_features) / spark_seconds,
        "parity": check,
        "note": "dbt build includes its tests; Spark time includes JVM start-up",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.backfill",
        description="Time the Spark backfill against dbt build on one raw folder and check "
        "that both produce the same customer_features.",
    )
    parser.add_argument("--raw-dir", type=Path, default=Path("data/raw"))
    parser.add_argument("--every", type=int, default=30, help="days between as-of dates")
    parser.add_argument("--count", type=int, default=12, help="as-of dates before the latest")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.raw_dir, args.every, args.count, args.master), indent=2))


if __name__ == "__main__":
    main()
