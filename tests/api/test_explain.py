"""Reasons are exact decompositions of each model's score, summed back to original features."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from modeling.artifact import LoadedModel, load_model
from modeling.dataset import feature_spec
from modeling.explain import (
    FOREST_TREE_PATHS,
    LINEAR_COEFFICIENTS,
    NOT_AVAILABLE,
    XGBOOST_SHAP,
    contributions,
    explain,
)
from modeling.forest_paths import forest_paths
from modeling.preprocess import as_model_input, build_preprocessor


@pytest.fixture(scope="module")
def sample(warehouse, feature_store):
    """Latest-date features with a label that depends on recency (enough to fit on)."""
    features = pd.read_parquet(warehouse.features_dir / "customer_features.parquet")
    frame = features[features["event_timestamp"] == features["event_timestamp"].max()]
    frame = frame.reset_index(drop=True)
    labels = (frame["recency_days"] < frame["recency_days"].median()).astype(int).to_numpy()
    return frame, labels, feature_spec(feature_store)


def _fit(estimator, scale, sample) -> LoadedModel:
    frame, labels, spec = sample
    preprocessor = build_preprocessor(spec, scale=scale)
    estimator.fit(preprocessor.fit_transform(as_model_input(frame, spec)), labels)
    return LoadedModel(None, {"version": "test"}, spec, preprocessor, estimator, None)


def test_xgboost_contributions_sum_to_the_margin(trained_models, feature_store, sample):
    model = load_model(trained_models / "current", expected=feature_spec(feature_store))
    frame = sample[0].head(20)
    method, per_feature = contributions(model, frame)
    assert method == XGBOOST_SHAP
    assert list(per_feature.columns) == list(model.spec.names)  # one-hot summed back
    margin = model.estimator.predict(model.matrix(frame), output_margin=True)
    base = margin - per_feature.sum(axis=1).to_numpy()
    np.testing.assert_allclose(base, base[0], atol=1e-3)  # the same bias for every row


def test_logistic_contributions_are_exact_log_odds(sample):
    model = _fit(LogisticRegression(max_iter=2000), True, sample)
    frame = sample[0].head(20)
    method, per_feature = contributions(model, frame)
    assert method == LINEAR_COEFFICIENTS
    logit = model.estimator.decision_function(model.matrix(frame))
    np.testing.assert_allclose(
        per_feature.sum(axis=1) + model.estimator.intercept_[0], logit, atol=1e-9
    )


def test_forest_tree_paths_sum_to_the_probability(sample):
    model = _fit(RandomForestClassifier(n_estimators=15, min_samples_leaf=20, random_state=1),
                 False, sample)  # fmt: skip
    frame = sample[0].head(20)
    method, per_feature = contributions(model, frame)
    assert method == FOREST_TREE_PATHS
    probability = model.estimator.predict_proba(model.matrix(frame))[:, 1]
    base = probability - per_feature.sum(axis=1).to_numpy()
    np.testing.assert_allclose(base, base[0], atol=1e-9)


def test_forest_contributions_are_the_share_changes_along_scikit_learn_s_paths(sample):
    """Each split's change in positive share, credited to its feature, along the decision path
    scikit-learn itself takes (`decision_path`), averaged over trees: not just the right sum
    (the test above), the right features."""
    model = _fit(RandomForestClassifier(n_estimators=15, min_samples_leaf=20, random_state=1),
                 False, sample)  # fmt: skip
    matrix = model.matrix(sample[0].head(60)).astype(np.float32)
    expected = np.zeros(matrix.shape)
    for tree in model.estimator.estimators_:
        value = tree.tree_.value[:, 0, :]
        share = value[:, 1] / value.sum(axis=1)
        paths = tree.decision_path(matrix).tolil().rows  # node ids ascend from the root
        for row, nodes in enumerate(paths):
            for parent, child in pairwise(nodes):
                expected[row, tree.tree_.feature[parent]] += share[child] - share[parent]
    expected /= len(model.estimator.estimators_)
    per_column = forest_paths(model.estimator).contributions(matrix)
    np.testing.assert_allclose(per_column, expected, atol=1e-12)


def test_top_reasons_are_the_largest_pushes_with_values(sample):
    model = _fit(LogisticRegression(max_iter=2000), True, sample)
    frame = sample[0].head(3)
    _, per_feature = contributions(model, frame)
    for (_, row), explanation in zip(per_feature.iterrows(), explain(model, frame, top=4),
                                     strict=True):  # fmt: skip
        assert [r.feature for r in explanation.reasons] == list(
            row.abs().sort_values(ascending=False, kind="stable").index[:4]
        )
        for reason in explanation.reasons:
            assert reason.method == LINEAR_COEFFICIENTS
            assert reason.unit == "log_odds"
    assert explanation.reasons[0].value is None or not isinstance(
        explanation.reasons[0].value, np.generic
    )


def test_unknown_estimators_say_not_available(sample):
    class Opaque:
        pass

    model = LoadedModel(None, {}, sample[2], None, Opaque(), None)
    (explanation,) = explain(model, sample[0].head(1))
    assert explanation.method == NOT_AVAILABLE and explanation.reasons == []
