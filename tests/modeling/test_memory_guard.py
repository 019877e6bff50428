"""Memory: each stage's figures are real, and training refuses before it would be killed.

The refusal runs the real command on the session's sample with a limit far below what it
needs: it must exit non-zero, naming the knobs, before the Feast join starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from ingest.memory import (
    GB,
    Stages,
    available_bytes,
    current_rss_bytes,
    peak_rss_bytes,
    refuse_unless_fits,
)
from modeling.dataset import count_labels
from modeling.settings import TrainSettings
from modeling.training_set import estimated_peak_bytes
from tests.conftest import REPO_ROOT


def test_peak_and_current_rss_see_an_allocation():
    before = current_rss_bytes()
    block = np.ones(300 * 1024**2 // 8)  # 300 MB, touched
    during = current_rss_bytes()
    assert during - before > 250 * 1024**2
    # the kernel's high-water mark lags the page counters by a few pages per thread
    assert peak_rss_bytes() >= during - 8 * 1024**2
    del block


def test_available_memory_is_read_from_meminfo(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemAvailable:    2000000 kB\n")
    assert available_bytes(meminfo) == 2_000_000 * 1024
    meminfo.write_text("MemTotal:       24000000 kB\n")
    assert available_bytes(meminfo) is None
    assert 0 < available_bytes() <= os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def test_stages_keep_seconds_and_memory_per_stage():
    import logging

    stages = Stages(logging.getLogger("test"))
    stages.lap("first")
    block = np.ones(200 * 1024**2 // 8)
    stages.lap("second")
    summary = stages.summary()
    assert list(summary["seconds"]) == ["first", "second", "total"]
    memory = summary["memory_gb"]
    assert memory["second"]["rss_gb"] - memory["first"]["rss_gb"] >= 0.15
    assert memory["second"]["peak_rss_gb"] >= memory["second"]["rss_gb"] - 0.01
    del block


def test_a_need_above_the_limit_is_refused_naming_the_knobs():
    refuse_unless_fits(0.5 * GB, what="x", limit_gb=1.0, knobs="lower --rows")
    with pytest.raises(SystemExit, match=r"x would need about 2\.0 GB.*limit of 1 GB.*--rows"):
        refuse_unless_fits(2 * GB, what="x", limit_gb=1.0, knobs="lower --rows")
    with pytest.raises(SystemExit, match="available now"):  # the machine's own limit
        refuse_unless_fits(available_bytes() * 2, what="x", limit_gb=None, knobs="")


def test_the_estimate_grows_with_the_rows_joined():
    small, large = estimated_peak_bytes(10**6, 10**5, 45), estimated_peak_bytes(10**6, 10**6, 45)
    assert large > small > 0


# Peak RSS of training measured on the product's own data (docs/PERFORMANCE.md): label rows,
# sampled entity rows, joined columns → GB. The 200,000-customer points are sample + join +
# split; 1M and 3M are whole `python -m modeling.train` runs under `python -m bench.pipeline`.
MEASURED_PEAKS = [
    (1_980_000, 100_000, 40, 0.97),
    (1_980_000, 600_000, 40, 2.34),
    (1_980_000, 1_380_000, 40, 4.48),
    (1_980_000, 1_980_000, 40, 5.83),
    (9_869_168, 2_318_440, 40, 9.11),
    (29_601_308, 2_400_000, 40, 9.46),
]


@pytest.mark.parametrize(("labels", "entities", "columns", "peak_gb"), MEASURED_PEAKS)
def test_the_estimate_sits_above_every_measured_peak(labels, entities, columns, peak_gb):
    """Under the estimate the run would be killed rather than refused; far over it, a run
    that fits would be refused. (The first fit, 70 bytes a cell, gave 7.6 GB at 1M: 1.2× low.)"""
    estimate = estimated_peak_bytes(labels, entities, columns) / GB
    assert peak_gb <= estimate <= 2 * peak_gb


def test_the_limit_is_a_flag_and_a_variable(monkeypatch):
    monkeypatch.setenv("TRAIN_MEMORY_LIMIT_GB", "6.5")
    monkeypatch.setenv("TRAIN_MAX_EVAL_ROWS", "5000")
    settings = TrainSettings()
    assert settings.memory_limit_gb == 6.5 and settings.max_eval_rows == 5000
    with pytest.raises(ValueError, match="greater than 0"):
        TrainSettings(memory_limit_gb=0)


def _train_with_limit(limit_gb: float, warehouse, feature_store, models_dir):
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable, "-m", "modeling.train", "--models", "lr",
            "--memory-limit-gb", f"{limit_gb:.6f}",
            "--feast-data-dir", str(feature_store.feast_data_dir),
        ],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "FEATURES_DIR": str(warehouse.features_dir),
            "MODELS_DIR": str(models_dir),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    print(f"refused in {time.perf_counter() - started:.1f} s")
    return result


def test_training_refuses_before_the_join_when_memory_would_not_fit(
    warehouse, feature_store, tmp_path
):
    # room for the label table, not for the sampled rows joined to their features
    labels = count_labels(warehouse.features_dir / "customer_labels.parquet")
    limit_gb = (estimated_peak_bytes(labels, 0, 0) + 2**20) / GB
    models_dir = tmp_path / "models"
    result = _train_with_limit(limit_gb, warehouse, feature_store, models_dir)
    assert result.returncode != 0
    message = " ".join(result.stderr.split())
    assert "not enough memory: training on" in message and "sampled label rows" in message
    for knob in ("--max-train-rows", "--max-eval-rows", "--memory-limit-gb"):
        assert knob in message, knob
    # refused before the join: the labels were sampled, nothing was built, nothing written
    assert "label rows before the join" in result.stderr
    assert "building the training set from Feast" not in result.stderr
    assert "stage training set from Feast" not in result.stderr
    assert not models_dir.exists() or not any(models_dir.iterdir())


def test_training_refuses_before_reading_a_label_table_that_would_not_fit(
    warehouse, feature_store, tmp_path
):
    """The label table is read whole to sample it: when that alone would not fit, the sample
    sizes cannot help, so the refusal comes first (row count from the Parquet footers) and
    names what can."""
    models_dir = tmp_path / "models"
    result = _train_with_limit(0.01, warehouse, feature_store, models_dir)
    assert result.returncode != 0
    message = " ".join(result.stderr.split())
    assert "not enough memory: reading" in message and "label rows to sample them" in message
    for knob in ("snapshot_count", "python -m spark_pipeline", "--memory-limit-gb"):
        assert knob in message, knob
    assert "label rows before the join" not in result.stderr  # nothing was sampled
    assert not models_dir.exists() or not any(models_dir.iterdir())
