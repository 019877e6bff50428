"""modeling.treeshap gives XGBoost's own TreeSHAP values (`pred_contribs`), for any tree shape.

Real boosters trained here, scored against the booster's own implementation on rows with
missing values, features split on twice along one path, one-leaf trees and early stopping.
What it does not reproduce raises Unsupported (the fast path then uses XGBoost's own).
"""

from __future__ import annotations

import numpy as np
import pytest
from xgboost import DMatrix, XGBClassifier

from modeling import treeshap
from modeling.treeshap import TreeShap, Unsupported, for_estimator


def _data(seed: int = 0, rows: int = 3000, columns: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, columns))
    x[:, 5] = rng.integers(0, 2, rows)  # a 0/1 column, like a one-hot one
    logit = 1.5 * x[:, 0] - x[:, 1] * x[:, 2] + np.sin(2 * x[:, 3]) + 0.8 * x[:, 5]
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    x[rng.random(x.shape) < 0.15] = np.nan  # missing values take each split's default side
    return x, y


def _reference(model: XGBClassifier, x: np.ndarray) -> np.ndarray:
    booster = model.get_booster()
    _, end = model._get_iteration_range(None)
    return booster.predict(DMatrix(x), pred_contribs=True, iteration_range=(0, end))[:, :-1]


@pytest.mark.parametrize("depth", [1, 3, 6])
def test_equals_xgboost_pred_contribs(depth):
    x, y = _data()
    model = XGBClassifier(n_estimators=60, max_depth=depth, learning_rate=0.1, random_state=0)
    model.fit(x[:2000], y[:2000])
    shap = TreeShap(model.get_booster())
    if depth == 6:  # deep trees split on the same feature twice along a path
        assert shap.pair_nodes.shape[2] > 1
    got = shap(x[2000:])
    assert got.dtype == np.float32 and got.shape == (1000, x.shape[1])
    np.testing.assert_allclose(got, _reference(model, x[2000:]), rtol=0, atol=2e-5)


def test_sums_to_the_margin_with_one_leaf_trees_and_early_stopping():
    x, y = _data(seed=1)
    model = XGBClassifier(
        n_estimators=200, max_depth=2, learning_rate=0.3, early_stopping_rounds=5, random_state=0
    )
    model.fit(x[:2000], y[:2000], eval_set=[(x[2000:2500], y[2000:2500])], verbose=False)
    assert model.best_iteration < 199  # stopped early: trees after it are not served
    got = for_estimator(model)(x[2500:])
    np.testing.assert_allclose(got, _reference(model, x[2500:]), rtol=0, atol=2e-5)
    margin = model.predict(x[2500:], output_margin=True)
    bias = margin - got.sum(axis=1)
    np.testing.assert_allclose(bias, bias[0], atol=1e-4)

    stumps = XGBClassifier(n_estimators=5, max_depth=2, min_child_weight=1e9).fit(x, y)
    assert np.all(TreeShap(stumps.get_booster())(x[:10]) == 0)  # no split: all bias


def test_what_it_does_not_reproduce_is_unsupported(monkeypatch):
    x, y = _data(seed=2)
    deep = XGBClassifier(n_estimators=20, max_depth=6).fit(x, y)
    monkeypatch.setattr(treeshap, "MAX_TABLE_ENTRIES", 1_000)
    with pytest.raises(Unsupported, match="too large a table"):
        for_estimator(deep)
    dart = XGBClassifier(booster="dart", n_estimators=10, max_depth=3).fit(x, y)
    with pytest.raises(Unsupported, match="dart"):
        for_estimator(dart)
    zero_missing = XGBClassifier(n_estimators=10, max_depth=3, missing=0.0)
    zero_missing.fit(np.nan_to_num(x), y)
    with pytest.raises(Unsupported, match="missing"):
        for_estimator(zero_missing)


def test_no_rows():
    x, y = _data(seed=3)
    model = XGBClassifier(n_estimators=5, max_depth=3).fit(x, y)
    assert TreeShap(model.get_booster())(x[:0]).shape == (0, x.shape[1])


def test_large_batches_are_scored_in_chunks_with_the_same_result(monkeypatch):
    x, y = _data(seed=4)
    model = XGBClassifier(n_estimators=20, max_depth=4).fit(x, y)
    shap = TreeShap(model.get_booster())
    whole = shap(x)
    monkeypatch.setattr(treeshap, "ROWS_PER_CHUNK", 7)
    np.testing.assert_array_equal(shap(x), whole)


@pytest.mark.parametrize("splits", [1, 3, 16])
def test_any_grouping_of_leaves_gives_the_same_values(monkeypatch, splits):
    """Group tables fold a tree's (or several small trees') leaves over their split nodes;
    a group narrower than one path is widened to it, a wide one spans several trees."""
    x, y = _data(seed=5)
    model = XGBClassifier(n_estimators=30, max_depth=3, learning_rate=0.1, random_state=0)
    model.fit(x[:2000], y[:2000])
    default = TreeShap(model.get_booster())(x[2000:])
    monkeypatch.setattr(treeshap, "GROUP_SPLITS", splits)
    shap = TreeShap(model.get_booster())
    if splits == 16:  # trees of at most 7 splits: two or more share a group
        assert len(shap.group_splits) < 30
    got = shap(x[2000:])
    np.testing.assert_allclose(got, _reference(model, x[2000:]), rtol=0, atol=2e-5)
    np.testing.assert_allclose(got, default, rtol=0, atol=1e-6)
