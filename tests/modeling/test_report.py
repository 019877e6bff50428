"""The evaluation report and metrics.json: plots that exist, baselines, slices, oracle."""

from __future__ import annotations

import json
import re

import pandas as pd

from modeling.baselines import oracle
from modeling.dataset import load_labels


def test_report_exists_and_every_image_it_references_exists(trained_models):
    directory = (trained_models / "current").resolve()
    page = (directory / "report.html").read_text()
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) >= 4
    for name in images:
        assert "/" not in name and name.endswith(".png"), "PNGs sit beside the report"
        assert (directory / name).stat().st_size > 1000
    assert "How to read this" in page
    assert "BG/NBD" in page and "recency" in page.lower()


def test_metrics_have_both_baselines_cross_validation_and_slices(trained_models):
    metrics = json.loads((trained_models / "current" / "metrics.json").read_text())
    assert {"recency", "bgnbd"} <= set(metrics["baselines"])
    bgnbd = metrics["baselines"]["bgnbd"]
    assert 0.5 < bgnbd["test"]["roc_auc"] <= 1
    assert {"r", "alpha", "a", "b"} <= set(bgnbd["parameters"])
    for slicing in ("favourite_category", "tenure", "orders_count", "spend_tier"):
        rows = metrics["slices"][slicing]
        assert rows and sum(r["rows"] for r in rows) == metrics["models"]["xgb"]["test"]["rows"]
    assert metrics["models"]["xgb"]["cv"]["roc_auc"]["mean"] > 0.5


def test_oracle_scores_the_test_rows_from_the_generators_ground_truth(warehouse):
    labels = load_labels(warehouse.features_dir / "customer_labels.parquet")
    test = labels[labels["as_of_date"] == labels["as_of_date"].max()]
    truth = oracle(warehouse.raw_dir / "ground_truth.parquet", test, 30)
    assert truth is not None and truth.entry["test"]["rows"] == len(test)
    assert len(truth.test_scores) == len(test)
    assert 0.6 < truth.entry["test"]["roc_auc"] <= 1
    # truth that does not cover the rows gives no oracle rather than a wrong one
    partial = pd.read_parquet(warehouse.raw_dir / "ground_truth.parquet").iloc[:10]
    path = warehouse.raw_dir.parent / "partial_truth.parquet"
    partial.to_parquet(path)
    assert oracle(path, test, 30) is None
