"""Sampling the label rows before the point-in-time join (issue #18).

The sampler on its own: stratified by as-of date in proportion, exactly the cap, seeded.
Then on the session's sample, through the real Feast join: with caps larger than the data the
training set is the one built before sampling existed (every label joined, then split), and
with small caps every sampled row is the row that full join gave it, and the run records what
it sampled in metadata.json and metrics.json.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from feature_repo.store import open_store
from modeling import training_set
from modeling.dataset import LABEL, at_most, load_labels, split_by_as_of, training_frame
from modeling.preprocess import as_model_input
from modeling.sampling import EPOCH, as_of_days, proportional, sample_parts, to_date
from modeling.settings import TrainSettings
from modeling.train import run as train


def _days(counts: dict[date, int], seed: int = 0) -> np.ndarray:
    """Label rows' as-of days for the given rows per date, shuffled like a real file."""
    days = np.concatenate([np.full(n, (d - EPOCH).days) for d, n in counts.items()])
    return np.random.default_rng(seed).permutation(days)


DATES = [date(2025, 1, 5), date(2025, 2, 4), date(2025, 3, 6), date(2025, 4, 5)]
COUNTS = dict(zip(DATES, (1000, 3000, 5000, 1001), strict=True))


def test_each_date_keeps_its_share_and_the_part_its_cap():
    days = _days(COUNTS)
    sampling = sample_parts(days, {"train": (DATES[:3], 900), "test": (DATES[3:], 100)}, seed=1)
    train, test = sampling.parts
    assert train.after == {DATES[0]: 100, DATES[1]: 300, DATES[2]: 500}
    assert test.after == {DATES[3]: 100}
    assert train.before == {d: COUNTS[d] for d in DATES[:3]}
    for part in (train, test):
        kept = days[part.positions]
        assert {d: int((kept == (d - EPOCH).days).sum()) for d in part.dates} == part.after
        assert np.all(np.diff(part.positions) > 0)  # file order, no row twice
    assert sampling.rows == 1000 and sampling.sampled and sampling.unused_rows == 0


def test_remainders_go_to_the_largest_fractions_and_never_beyond_a_date():
    assert proportional(np.array([1, 1, 1]), 2).tolist() == [1, 1, 0]
    assert proportional(np.array([5, 10, 15]), 10).tolist() == [2, 3, 5]
    assert proportional(np.array([2, 50]), 100).tolist() == [2, 50]
    shares = proportional(np.array([333, 333, 334]), 500)
    assert shares.sum() == 500 and shares.max() - shares.min() <= 1


def test_the_same_seed_draws_the_same_rows_and_another_seed_others():
    days = _days(COUNTS)
    parts = {"train": (DATES, 2000)}
    first = sample_parts(days, parts, seed=7).positions
    assert np.array_equal(first, sample_parts(days, parts, seed=7).positions)
    assert not np.array_equal(first, sample_parts(days, parts, seed=8).positions)


def test_a_part_under_its_cap_keeps_every_row_and_dates_outside_are_unused():
    days = _days(COUNTS)
    sampling = sample_parts(days, {"train": (DATES[:2], 0), "test": (DATES[2:3], 10**6)}, 3)
    expected = np.flatnonzero(np.isin(days, [(d - EPOCH).days for d in DATES[:3]]))
    assert np.array_equal(sampling.positions, expected)
    assert not sampling.sampled
    assert sampling.unused_rows == COUNTS[DATES[3]]
    recorded = sampling.as_dict()
    assert recorded["seed"] == 3 and recorded["train"]["cap"] is None
    assert recorded["test"]["per_date"] == {"2025-03-06": {"before": 5000, "after": 5000}}


@pytest.mark.parametrize(
    "column",
    [
        pa.array([date(2025, 1, 5), date(2025, 2, 4)], pa.date32()),
        pa.array(["2025-01-05", "2025-02-04"]),  # a partitioned folder's as_of_date=… names
        pa.array(["2025-01-05", "2025-02-04"]).dictionary_encode(),
        pa.array([pd.Timestamp("2025-01-05"), pd.Timestamp("2025-02-04")], pa.timestamp("us")),
    ],
)
def test_as_of_dates_are_read_from_every_type_the_labels_come_in(column):
    assert [to_date(d) for d in as_of_days(column)] == [
        date(2025, 1, 5),
        date(2025, 2, 4),
    ]


def _settings(warehouse, feature_store, **caps) -> TrainSettings:
    return TrainSettings(
        features_dir=warehouse.features_dir, feast_data_dir=feature_store.feast_data_dir, **caps
    )


def test_with_caps_above_the_data_the_training_set_is_the_unsampled_one(warehouse, feature_store):
    """Every label joined, then split and capped, as training did before it sampled first:
    the same frame, parts, model inputs and labels, so the same models and metrics."""
    settings = _settings(warehouse, feature_store)
    data = training_set.build(settings)
    store = open_store(data_dir=feature_store.feast_data_dir)
    frame = training_frame(store, load_labels(settings.labels_path))
    train, valid, test = split_by_as_of(frame, settings.validation_dates)
    fit_rows = at_most(train, settings.max_train_rows, settings.seed)

    pd.testing.assert_frame_equal(data.frame, frame)
    for ours, theirs in ((data.train, train), (data.valid, valid), (data.test, test)):
        pd.testing.assert_frame_equal(ours, theirs)
    pd.testing.assert_frame_equal(data.fit_rows, fit_rows)
    pd.testing.assert_frame_equal(data.x_test, as_model_input(test, data.spec))
    assert np.array_equal(data.y_fit, fit_rows[LABEL].to_numpy())
    assert not data.sampling.sampled
    assert data.sampling.rows == len(frame)


def test_sampled_rows_are_stratified_and_joined_exactly_as_in_the_full_join(
    warehouse, feature_store
):
    settings = _settings(warehouse, feature_store, max_train_rows=2000, max_eval_rows=300)
    data = training_set.build(settings)
    store = open_store(data_dir=feature_store.feast_data_dir)
    full = training_frame(store, load_labels(settings.labels_path))
    train_all, valid_all, test_all = split_by_as_of(full, settings.validation_dates)

    assert len(data.train) == len(data.fit_rows) == 2000
    assert len(data.valid) == len(data.test) == 300
    shares = train_all["as_of_date"].value_counts(normalize=True)
    counts = data.train["as_of_date"].value_counts()
    assert set(counts.index) == set(shares.index)  # no training date lost
    assert (counts - shares * 2000).abs().max() <= 1  # each date its share, within rounding
    # point-in-time features unchanged: each sampled row is the full join's row
    keys = ["customer_id", "as_of_date"]
    joined = data.frame.merge(full, on=keys, suffixes=("", "_full"), validate="1:1")
    assert len(joined) == len(data.frame)
    for column in (c for c in full.columns if c not in keys):
        pd.testing.assert_series_equal(joined[column], joined[f"{column}_full"], check_names=False)
    recorded = data.sampling.as_dict()
    assert recorded["train"]["rows_before"] == len(train_all)
    assert recorded["validation"]["rows_before"] == len(valid_all)
    assert recorded["test"]["rows_before"] == len(test_all)
    assert recorded["test"]["rows_after"] == 300 and recorded["test"]["cap"] == 300
    again = training_set.build(settings)
    pd.testing.assert_frame_equal(again.frame, data.frame)  # seeded: the same rows


def test_a_run_records_what_it_sampled_and_each_stages_memory(warehouse, feature_store, tmp_path):
    settings = _settings(
        warehouse,
        feature_store,
        models=("lr",),
        cv_folds=0,
        max_train_rows=3000,
        max_eval_rows=500,
        models_dir=tmp_path / "models",
        seed=5,
    )
    train(settings)
    (version,) = [p for p in (tmp_path / "models").iterdir() if p.is_dir() and p.name != "current"]
    metadata = json.loads((version / "metadata.json").read_text())
    metrics = json.loads((version / "metrics.json").read_text())
    assert metadata["sampling"] == metrics["sampling"]
    sampling = metadata["sampling"]
    assert sampling["seed"] == 5 and sampling["stratified_by"] == "as_of_date"
    assert sampling["train"]["rows_after"] == metadata["rows"]["train"] == 3000
    assert sampling["test"]["rows_after"] == metadata["rows"]["test"] == 500
    per_date = sampling["train"]["per_date"]
    assert sum(d["after"] for d in per_date.values()) == 3000
    assert sum(d["before"] for d in per_date.values()) == sampling["train"]["rows_before"] > 3000
    assert list(per_date)[-1] == metadata["as_of_range"]["train"][1]

    memory = metrics["memory_gb"]
    assert set(memory) == {*metrics["seconds"]}  # every stage timed has its memory, and total
    assert "sample labels" in memory and "training set from Feast" in memory
    peaks = [stage["peak_rss_gb"] for stage in memory.values()]
    assert peaks == sorted(peaks) and peaks[0] > 0.05  # a high-water mark never goes down
    assert all(0 < stage["rss_gb"] <= stage["peak_rss_gb"] + 0.01 for stage in memory.values())
