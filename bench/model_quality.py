"""Model quality: the sample (against the oracle) and UCI Online Retail (against references).

`python -m bench.model_quality [--customers 20000] [--skip-sample] [--skip-online-retail]`
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from bench.stack import REPO_ROOT, Stack
from modeling.settings import TrainSettings
from modeling.train import run as train

ONLINE_RETAIL = REPO_ROOT.parent / "shared" / "data" / "online_retail.csv.gz"
# as-of dates of the reference protocol: each scored by a model trained only on
# what was known by then
ONLINE_RETAIL_TEST_DATES = ("2011-06-30", "2011-08-31", "2011-09-30", "2011-10-31")
ONLINE_RETAIL_MONTH_ENDS = [
    d.strftime("%Y-%m-%d") for d in pd.date_range("2010-12-31", "2011-11-30", freq="ME")
]
# weekly as-of dates as well: more stacked training slices (the test dates stay month-ends)
ONLINE_RETAIL_WEEKLY = sorted(
    set(ONLINE_RETAIL_MONTH_ENDS)
    | {d.strftime("%Y-%m-%d") for d in pd.date_range("2010-12-05", "2011-11-30", freq="7D")}
)
REFERENCES = {  # the reference models, measured on this machine with the same protocol
    "recency only": {"roc_auc": 0.655, "pr_auc": 0.393},
    "BG/NBD": {"roc_auc": 0.732, "pr_auc": 0.585},
    "gradient boosting, one window": {"roc_auc": 0.710, "pr_auc": 0.559},
    "gradient boosting, 3 stacked windows": {"roc_auc": 0.738, "pr_auc": 0.593},
}


def _train(stack: Stack, **overrides) -> dict:
    settings = TrainSettings(
        models_dir=stack.models_dir,
        features_dir=stack.features_dir,
        feast_data_dir=stack.feast_dir,
        **overrides,
    )
    train(settings)
    newest = max(stack.models_dir.glob("2*"), key=lambda p: p.stat().st_mtime)
    return {
        "metadata": json.loads((newest / "metadata.json").read_text()),
        "metrics": json.loads((newest / "metrics.json").read_text()),
    }


def oracle_metrics(stack: Stack, as_of: str) -> dict[str, float]:
    """The generator's true probabilities scored against the same held-out labels."""
    truth = pd.read_parquet(stack.raw_dir / "ground_truth.parquet")
    labels = pd.read_parquet(stack.features_dir / "customer_labels.parquet")
    truth["as_of_date"] = pd.to_datetime(truth["as_of_date"]).dt.date
    labels["as_of_date"] = pd.to_datetime(labels["as_of_date"]).dt.date
    day = date.fromisoformat(as_of)
    merged = labels[labels["as_of_date"] == day].merge(truth, on=["customer_id", "as_of_date"])
    return {
        "roc_auc": float(roc_auc_score(merged["repeat_30d"], merged["p_repeat_30d"])),
        "pr_auc": float(average_precision_score(merged["repeat_30d"], merged["p_repeat_30d"])),
        "rows": len(merged),
    }


def sample_quality(customers: int, workdir: Path, seed: int = 42) -> dict:
    stack = Stack(workdir / "sample")
    stack.generate(customers, seed)
    stack.dbt_build()
    stack.feature_store()
    result = _train(stack, seed=seed, ground_truth=stack.raw_dir / "ground_truth.parquet")
    test_date = result["metadata"]["as_of_range"]["test"]
    metrics = result["metrics"]
    chosen = metrics["models"][metrics["chosen"]]["test"]
    oracle = oracle_metrics(stack, test_date)
    return {
        "customers": customers,
        "test_as_of": test_date,
        "chosen": metrics["chosen"],
        "models": {k: v["test"] for k, v in metrics["models"].items()},
        "fit_seconds": {k: v["fit_seconds"] for k, v in metrics["models"].items()},
        "baselines": {k: v["test"] for k, v in metrics["baselines"].items()},
        "cv": {
            k: {m: v["cv"][m] for m in ("roc_auc", "pr_auc")} for k, v in metrics["models"].items()
        },
        "oracle": oracle,
        "roc_auc_vs_oracle": chosen["roc_auc"] / oracle["roc_auc"],
    }


def online_retail_stack(root: Path, dates: list[str]) -> Stack:
    """UCI Online Retail through the importer and dbt, with features at these as-of dates."""
    stack = Stack(root)
    stack.run(
        sys.executable, "-m", "ingest.load", str(ONLINE_RETAIL), "--preset", "online-retail",
        "--out", str(stack.raw_dir),
    )  # fmt: skip
    stack.dbt_build("{as_of_dates: [" + ", ".join(dates) + "]}")
    return stack


def online_retail_quality(workdir: Path, cadence: str = "weekly") -> dict:
    dates = ONLINE_RETAIL_WEEKLY if cadence == "weekly" else ONLINE_RETAIL_MONTH_ENDS
    stack = online_retail_stack(workdir / "online_retail", dates)
    stack.feature_store()
    per_date = {}
    for as_of in ONLINE_RETAIL_TEST_DATES:
        result = _train(stack, test_as_of=date.fromisoformat(as_of))
        metrics = result["metrics"]
        per_date[as_of] = {
            "chosen": metrics["chosen"],
            "model": metrics["models"][metrics["chosen"]]["test"],
            "baselines": {k: v["test"] for k, v in metrics["baselines"].items()},
        }
    mean = {
        key: float(pd.Series([d["model"][key] for d in per_date.values()]).mean())
        for key in ("roc_auc", "pr_auc", "f1")
    }
    baselines_mean = {
        name: {
            key: float(pd.Series([d["baselines"][name][key] for d in per_date.values()]).mean())
            for key in ("roc_auc", "pr_auc")
        }
        for name in next(iter(per_date.values()))["baselines"]
    }
    return {
        "as_of_cadence": cadence,
        "per_date": per_date,
        "mean": mean,
        "baselines_mean": baselines_mean,
        "references": REFERENCES,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.model_quality",
        description="Model quality on the sample (vs the oracle) and on UCI Online Retail "
        "(vs the reference points in bench/model_quality.py).",
    )
    parser.add_argument("--customers", type=int, default=20000, help="sample size (%(default)s)")
    parser.add_argument("--skip-sample", action="store_true")
    parser.add_argument("--skip-online-retail", action="store_true")
    parser.add_argument(
        "--as-of-cadence",
        choices=["monthly", "weekly"],
        default="weekly",
        help="UCI as-of dates for training: month-ends, or weekly plus month-ends; weekly "
        "stacks 4× the slices and scored 0.743 / 0.601 against monthly's 0.741 / 0.599 "
        "(%(default)s)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        out = {}
        if not args.skip_sample:
            out["sample"] = sample_quality(args.customers, Path(tmp))
        if not args.skip_online_retail:
            out["online_retail"] = online_retail_quality(Path(tmp), args.as_of_cadence)
    text = json.dumps(out, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
