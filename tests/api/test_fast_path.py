"""The compiled hot path (modeling.fast_path) gives the library path's answers.

Preprocessing equals the fitted ColumnTransformer over many rows with NaNs, unseen and
infrequent categories; probabilities equal LoadedModel.predict_proba to 1e-9 and the reasons
are the same features, values and contributions, for XGBoost, Logistic Regression and Random
Forest; the HTTP answers are the same with the fast path and without it. The load-time check
catches contributions that differ from XGBoost's own, and a compiler broken by a library
upgrade (a renamed JSON key, a changed method) costs one warning and the library path, never
readiness. (The online reader has its own tests in tests/feature_store/test_online_reader.py.)
"""

from __future__ import annotations

import dataclasses
import json
import logging

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from xgboost import Booster

from modeling.artifact import LoadedModel, load_model
from modeling.dataset import feature_spec
from modeling.explain import explain
from modeling.fast_path import FastModel, FastPreprocessor, NotCompilable, compile_or_none
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
    assert len(slow) == len(scored.explanations) == len(rows)
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
    # modeling.treeshap against XGBoost's own pred_contribs, both float32
    _assert_same_answers(model, _rows(sample[0], sample[2]), contribution_rtol=1e-5)


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
    assert compile_or_none(model) is None


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
    from api.serving import ServingState
    from api.snapshot import ResultCache

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


def _edit_booster_json(monkeypatch, edit) -> None:
    """What the compiler reads of every booster (Booster.save_raw("json")), edited by `edit`
    (a tree's dict → None): how a new XGBoost release with another JSON layout looks to it."""
    real = Booster.save_raw

    def save_raw(self, raw_format="deprecated"):
        data = real(self, raw_format)
        if raw_format != "json":
            return data
        document = json.loads(bytes(data))
        for tree in document["learner"]["gradient_booster"]["model"]["trees"]:
            edit(tree)
        return bytearray(json.dumps(document).encode())

    monkeypatch.setattr(Booster, "save_raw", save_raw)


def test_contributions_are_checked_against_xgboost_itself(
    trained_models, feature_store, monkeypatch
):
    """Wrong covers give TreeSHAP values that differ from pred_contribs while every
    probability stays right: the check compares the numbers with XGBoost's own."""
    model = load_model(trained_models / "current", expected=feature_spec(feature_store))

    def skew_covers(tree: dict) -> None:
        tree["sum_hessian"] = [
            c * (1.5 if i % 2 else 1.0) for i, c in enumerate(tree["sum_hessian"])
        ]

    _edit_booster_json(monkeypatch, skew_covers)
    with pytest.raises(NotCompilable, match="pred_contribs"):
        FastModel.compile(model)


def _serves_with_one_warning(api_settings, known_ids, caplog) -> None:
    from fastapi.testclient import TestClient

    from api.main import create_app

    caplog.set_level(logging.WARNING, logger="modeling.fast_path")
    with TestClient(create_app(api_settings)) as app:
        serving = app.app.state.serving.current()
        assert serving.fast is None  # the library path
        assert app.get("/health").json()["ready"] is True
        answer = app.get(f"/customers/{known_ids[0]}/prediction")
        assert answer.status_code == 200 and answer.json()["reasons"]
    warnings = [
        r for r in caplog.records if r.name == "modeling.fast_path" and r.levelno >= logging.WARNING
    ]
    assert len(warnings) == 1 and "library path" in warnings[0].getMessage()


def test_a_renamed_booster_json_key_costs_speed_not_readiness(
    api_settings, known_ids, monkeypatch, caplog
):
    def rename(tree: dict) -> None:
        tree["split_conditions_v2"] = tree.pop("split_conditions")

    _edit_booster_json(monkeypatch, rename)
    _serves_with_one_warning(api_settings, known_ids, caplog)


def test_a_changed_library_method_costs_speed_not_readiness(
    api_settings, known_ids, monkeypatch, caplog
):
    """Booster.inplace_predict losing its `missing` keyword (as an upgrade might): the fast
    path's check raises TypeError; XGBClassifier.predict_proba catches that and predicts
    through a DMatrix, so the library path still answers."""
    real = Booster.inplace_predict

    def inplace_predict(self, data, *args, **kwargs):
        if "missing" in kwargs:
            raise TypeError("inplace_predict() got an unexpected keyword argument 'missing'")
        return real(self, data, *args, **kwargs)

    monkeypatch.setattr(Booster, "inplace_predict", inplace_predict)
    _serves_with_one_warning(api_settings, known_ids, caplog)
