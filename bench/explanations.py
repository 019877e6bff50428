"""Reasons for a batch: modeling.treeshap against XGBoost's own TreeSHAP, on the served model.

`python -m bench.explanations [--models-dir models] [--rows 1000] [--repeat 7]`
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
from xgboost import DMatrix

from modeling.artifact import load_model
from modeling.fast_path import FastModel
from modeling.settings import REPO_ROOT
from modeling.treeshap import TreeShap


def _median_ms(work, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(models_dir: Path, features: Path, rows: int, repeat: int) -> dict:
    model = load_model(models_dir / "current")
    if type(model.estimator).__name__ != "XGBClassifier":
        raise SystemExit(f"{models_dir / 'current'} is not an XGBoost model")
    frame = pd.read_parquet(features)
    latest = frame[frame["as_of_date"] == frame["as_of_date"].max()].head(rows)
    fast = FastModel(model)
    matrix = fast.matrix(latest[list(fast.names)].to_dict("records"))
    booster = model.estimator.get_booster()
    shap = TreeShap(booster)
    reference = booster.predict(DMatrix(matrix), pred_contribs=True)[:, :-1]
    out = {
        "model": model.version,
        "rows": len(matrix),
        "max_abs_difference": float(np.abs(shap(matrix) - reference).max()),
        "treeshap_ms": _median_ms(lambda: shap(matrix), repeat),
        "treeshap_one_row_ms": _median_ms(lambda: shap(matrix[:1]), repeat * 20),
    }
    for threads in (1, 2):
        booster.set_param({"nthread": threads})
        out[f"xgboost_{threads}_thread_ms"] = _median_ms(
            lambda: booster.predict(DMatrix(matrix, nthread=1), pred_contribs=True), repeat
        )
    booster.set_param({"nthread": 1})
    out["xgboost_one_row_ms"] = _median_ms(
        lambda: booster.predict(DMatrix(matrix[:1], nthread=1), pred_contribs=True), repeat * 20
    )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.explanations",
        description="Time the reasons of a batch: modeling.treeshap against XGBoost's own "
        "pred_contribs (1 and 2 threads), on <models-dir>/current and the latest as-of date "
        "of the features mart; checks both give the same values.",
    )
    parser.add_argument("--models-dir", type=Path, default=REPO_ROOT / "models")
    parser.add_argument(
        "--features",
        type=Path,
        default=REPO_ROOT / "data" / "features" / "customer_features.parquet",
    )
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    r = run(args.models_dir, args.features, args.rows, args.repeat)
    print(f"model {r['model']}, {r['rows']} rows; largest difference {r['max_abs_difference']:.1e}")
    print(
        f"modeling.treeshap: {r['treeshap_ms']:.1f} ms, one row {r['treeshap_one_row_ms']:.3f} ms"
    )
    one, two = r["xgboost_1_thread_ms"], r["xgboost_2_thread_ms"]
    print(
        f"XGBoost pred_contribs: {one:.1f} ms on 1 thread ({one / r['treeshap_ms']:.1f}×), "
        f"{two:.1f} ms on 2 ({two / r['treeshap_ms']:.1f}×), "
        f"one row {r['xgboost_one_row_ms']:.3f} ms"
    )


if __name__ == "__main__":
    main()
