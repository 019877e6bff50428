"""The compiled hot path (modeling.fast_path) gives the slow path's answers.

Preprocessing equals the fitted ColumnTransformer over many rows with NaNs, unseen and
infrequent categories; probabilities equal LoadedModel.predict_proba to 1e-9 and the reasons
are the same features, values and contributions, for XGBoost, Logistic Regression and Random
Forest; the HTTP answers are the same with the fast path and without it. (The online reader
has its own tests in tests/feature_store/test_online_reader.py.)
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from api.serving import compile_fast
from modeling.artifact import LoadedModel, load_model
from modeling.dataset import feature_spec
from modeling.explain import explain
from modeling.fast_path import FastModel, FastPreprocessor, NotCompilable
from modeling.preprocess import as_model_input, build_preprocessor

RARE = "rare_level"  # fewer rows than min_frequency: lands in the infrequent bucket
UNSEEN = "never_seen_in_training"


@pytest.fixture(scope="module")
def sample(warehouse, feature_store):
    """Latest-date features (with a rare level planted) and a recency-driven label."""
    features = pd.read_parquet(warehouse.features_dir / "customer_features.parquet")
    frame = features[features["event_timestamp"] == features["event_timestamp"].max()]
    frame = frame.reset_index(drop=True)
    spec = feature_spec(feature_store)
    for name in spec.categorical:
        frame.loc[frame.index[:3], name] = RARE
    labels = (frame["recency_days"] < frame["recency_days"].median()).astype(int).to_numpy()
    return frame, labels, spec


def _rows(frame: pd.DataFrame, spec, seed: int = 3) -> list[dict]:
    """Real rows, then the same rows with NaNs, unseen and rare categories sprinkled in."""
    rng = np.random.default_rng(seed)
    records = frame[list(spec.names)].astype(object).where(frame.notna(), None)
    rows = records.to_dict("records")
    damaged = []
    for row in rows[:300]:
        row = dict(row)
        for name in spec.names:
            roll = rng.random()
            if roll < 0.15:
                row[name] = None
            elif name in spec.categorical and roll < 0.25:
                row[name] = UNSEEN if roll < 0.2 else RARE
        damaged.append(row)
    return rows + damaged + [dict.fromkeys(spec.names)]


def _fit(estimator, scale: bool, sample) -> LoadedModel:
    frame, labels, spec = sample
    preprocessor = build_preprocessor(spec, scale=scale)
    matrix = preprocessor.fit_transform(as_model_input(frame, spec))
    estimator.fit(matrix, labels)
    raw = estimator.predict_proba(matrix)[:, 1]
    calibrator = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, labels)
    return LoadedModel(None, {"version": "test"}, spec, preprocessor, estimator, calibrator)


@pytest.mark.parametrize("scale", [True, False])
def test_numpy_preprocessing_equals_the_column_transformer(sample, scale):
    frame, _, spec = sample
    preprocessor = build_preprocessor(spec, scale=scale)
    preprocessor.fit(as_model_input(frame, spec))
    encoder = preprocessor.named_transformers_["categorical"]
    assert any(c is not None for c in encoder.infrequent_categories_)  # the bucket is tested
    rows = _rows(frame, spec)
    fast = FastPreprocessor(preprocessor, spec.numeric, spec.categorical)
    got = fast.transform(*fast.inputs(rows))
    records = pd.DataFrame.from_records(rows, columns=list(spec.names))
    expected = preprocessor.transform(as_model_input(records, spec))
    assert np.isnan(records[list(spec.numeric)].astype(float)).to_numpy().any()
    np.testing.assert_array_equal(got, expected)


def _assert_same_answers(model: LoadedModel, rows: list[dict], contribution_rtol: float):
    fast = FastModel.compile(model)
    frame = pd.DataFrame.from_records(rows, columns=list(model.spec.names))
    scored = fast.score(rows, top=5)
    np.testing.assert_allclose(scored.probabilities, model.predict_proba(frame), rtol=0, atol=1e-9)
    slow = explain(model, frame, top=5)
    for a, b in zip(slow, scored.explanations, strict=True):
        assert (a.method, a.unit) == (b.method, b.unit)
        assert [(r.feature, r.value, r.direction) for r in a.reasons] == [
            (r.feature, r.value, r.direction) for r in b.reasons
        ]
        np.testing.assert_allclose(
            [r.contribution for r in b.reasons],
            [r.contribution for r in a.reasons],
            rtol=contribution_rtol,
            atol=1e-12,
        )


def test_xgboost_fast_path_equals_the_slow_path(trained_models, feature_store, sample):
    model = load_model(trained_models / "current", expected=feature_spec(feature_store))
    # TreeSHAP comes out in float32: the slow path sums one-hot columns in float32 too
    _assert_same_answers(model, _rows(sample[0], sample[2]), contribution_rtol=1e-6)


def test_logistic_fast_path_equals_the_slow_path(sample):
    model = _fit(LogisticRegression(max_iter=2000), True, sample)
    _assert_same_answers(model, _rows(sample[0], sample[2]), contribution_rtol=1e-9)


def test_forest_fast_path_equals_the_slow_path(sample):
    forest = RandomForestClassifier(
        n_estimators=25, min_samples_leaf=5, max_samples=0.5, random_state=1, n_jobs=1
    )
    model = _fit(forest, False, sample)
    _assert_same_answers(model, _rows(sample[0], sample[2]), contribution_rtol=1e-9)


def test_an_unknown_estimator_is_served_by_the_slow_path(sample):
    class Opaque:
        pass

    model = _fit(LogisticRegression(max_iter=200), True, sample)
    model = dataclasses.replace(model, estimator=Opaque())
    with pytest.raises(NotCompilable):
        FastModel.compile(model)
    assert compile_fast(model) is None


def _close(a, b) -> None:
    """Equal JSON, floats to 1e-9 (contributions differ in the last bits of a sum)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _close(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _close(x, y)
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-6, abs=1e-9)
    else:
        assert a == b


def test_http_answers_are_the_same_without_the_fast_path(client, known_ids):
    state = client.app.state.serving
    fast = state.current()
    assert fast.fast is not None and fast.online is not None
    ids = [*known_ids[:20], "NOBODY123", "bad id!"]
    singles = [client.get(f"/customers/{c}/prediction").json() for c in known_ids[:5]]
    batch = client.post("/predict/batch", json={"customer_ids": ids}).json()
    what_if = client.post("/predict/features", json={"recency_days": 3}).json()
    state._serving = dataclasses.replace(fast, fast=None, online=None, cache=None)
    try:
        _close(singles, [client.get(f"/customers/{c}/prediction").json() for c in known_ids[:5]])
        _close(batch, client.post("/predict/batch", json={"customer_ids": ids}).json())
        _close(what_if, client.post("/predict/features", json={"recency_days": 3}).json())
    finally:
        state._serving = fast


def test_the_optional_result_cache_answers_repeats_without_scoring(
    api_settings, known_ids, monkeypatch
):
    from fastapi.testclient import TestClient

    import api.scoring
    from api.main import create_app

    settings = api_settings.model_copy(update={"result_cache_size": 3})
    with TestClient(create_app(settings)) as cached:
        first = [cached.get(f"/customers/{c}/prediction").json() for c in known_ids[:5]]
        calls = []
        real = api.scoring.score_rows
        monkeypatch.setattr(
            api.scoring, "score_rows", lambda *a, **k: calls.append(1) or real(*a, **k)
        )
        again = [cached.get(f"/customers/{c}/prediction").json() for c in known_ids[2:5]]
        assert again == first[2:5] and calls == []  # the 3 most recent: from the cache
        assert cached.get(f"/customers/{known_ids[0]}/prediction").json() == first[0]
        assert calls == [1]  # evicted (size 3): scored again, the same answer


def test_the_result_cache_never_answers_for_changed_features(api_settings, known_ids):
    """A corrected row re-materialized with the same as-of date must be scored afresh."""
    from api.scoring import _cached_scores
    from api.serving import ResultCache, ServingState

    settings = api_settings.model_copy(update={"result_cache_size": 10})
    state = ServingState(settings)
    state.start()
    serving = dataclasses.replace(state.current(), cache=ResultCache(10))
    (row,) = serving.online.read(known_ids[:1])
    (before,) = _cached_scores(serving, [row], settings)
    changed = dataclasses.replace(row, features={**row.features, "recency_days": 0})
    (after,) = _cached_scores(serving, [changed], settings)
    (fresh,) = dataclasses.replace(serving, cache=None).fast.score([changed.features]).probabilities
    assert after["probability"] == round(float(fresh), 6)
    assert row.features["recency_days"] != 0 and after != before
