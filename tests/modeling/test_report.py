"""The evaluation report and metrics.json: plots that exist, baselines, slices, oracle; the
page's tables in boxes of their own (how it fits a screen: tests/web/test_reports.py)."""

from __future__ import annotations

import json
import re

import pandas as pd

from modeling.baselines import oracle
from modeling.dataset import load_labels
from tests.modeling.conftest import sample_training_report


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


def test_every_table_scrolls_in_its_own_box_and_every_plot_is_a_figure_of_its_own(tmp_path):
    """The same page parts as the monitoring report's (modeling.report's table, side_by_side
    and head): a phone scrolls a wide table, never the page, and shows each plot at most its
    width, one under the other."""
    page = sample_training_report(tmp_path).read_text()
    tables = page.count("<table")
    assert tables == 5  # the comparison, four slicings
    assert len(re.findall(r'<div class="wide[^"]*"><table', page)) == tables
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    rows = re.findall(r'<div class="plots">((?:<img [^>]+>)+)</div>', page)
    # ROC and PR; reliability; a confusion matrix per model and BG/NBD; native and permutation
    assert [row.count("<img") for row in rows] == [2, 1, 4, 2]
    assert page.count("<img") == 9


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
