"""Reasons in words (modeling.reasons over the contract's meta), through the real API too."""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
import pytest

from api.scoring import base_rate_for, lookup
from ingest.mart_contract import mart_columns
from modeling.explain import explain
from modeling.reasons import customer_reasons, reason_text, reason_texts, same_for_everyone

CALENDAR = {"as_of_month", "as_of_day_of_week", "days_to_next_holiday", "is_festival_season"}


@pytest.mark.parametrize(
    ("feature", "value", "row", "words"),
    [
        ("recency_days", 83, {}, "Last order 83 days ago"),
        (
            "recency_gap_ratio",
            1.766,
            {"recency_days": 83, "mean_gap_days": 47.0},
            "Last order 83 days ago — usually orders every 47 days",
        ),
        ("avg_order_value", 31250.4, {}, "Average order ₹31,250"),
        ("weekend_order_share", 0.25, {}, "25% of orders on a weekend"),
        ("favourite_category", "groceries", {}, "Buys mostly groceries"),
        (
            "favourite_category_share",
            0.5,
            {"favourite_category": "books"},
            "50% of orders in books",
        ),
        ("mean_gap_days", None, {}, "Fewer than 2 days with an order: no usual gap yet"),
        ("recency_gap_ratio", 1.2, {"recency_days": 10, "mean_gap_days": math.nan}, "Fewer"),
        ("age", None, {}, "Age not known"),
        ("orders_30d", 2, {}, "2 orders in the last 30 days"),
        # the words agree with the number: no "1 days ago", "1 orders", "1 categories"
        ("recency_days", 0, {}, "Last order today"),
        ("recency_days", 1, {}, "Last order yesterday"),
        ("orders_30d", 1, {}, "1 order in the last 30 days"),
        ("distinct_categories", 1, {}, "Bought from 1 category"),
        ("purchase_days", 1, {}, "Bought on 1 different day"),
        ("orders_per_month", 0.1, {}, "0.1 orders a month"),
        ("tenure_days", 11, {}, "Customer for 11 days"),
    ],
)
def test_words_for_each_kind_of_feature(feature, value, row, words):
    assert reason_text(feature, value, row).startswith(words)


def test_every_model_feature_has_words_and_the_calendar_is_marked():
    columns = {c.name: c for c in mart_columns("customer_features")}
    keys = {"customer_id", "as_of_date", "event_timestamp"}
    assert [n for n, c in columns.items() if n not in keys and not c.reason] == []
    assert same_for_everyone() == CALENDAR


def test_calendar_features_are_dropped_and_top_is_kept():
    reasons = [
        {"feature": f, "value": 1, "contribution": 0.5, "direction": "up"}
        for f in ["as_of_month", "recency_days", "days_to_next_holiday", "orders_30d", "age"]
    ]
    kept = customer_reasons(reasons, {"recency_days": 3, "orders_30d": 1, "age": 40}, top=2)
    assert [r["feature"] for r in kept] == ["recency_days", "orders_30d"]
    assert kept[0]["text"] == "Last order 3 days ago"
    assert kept[0]["effect"] == "raises the chance"


def test_vectorised_words_equal_one_at_a_time():
    """The batch scorer's path (by feature, column at a time) says exactly the API's words,
    missing values, text columns and a feature absent from the frame included."""
    frame = pd.DataFrame(
        {
            "recency_days": [83, 5, 12, 40],
            "mean_gap_days": [47.0, None, 10.0, 3.0],
            "recency_gap_ratio": [1.766, None, 1.2, 13.3],
            "favourite_category": ["books", None, "toys", "books"],
            "favourite_category_share": [0.5, 0.2, None, 0.75],
            "avg_order_value": [31250.4, None, 10.0, 99.5],
        }
    )
    features = [
        ["recency_gap_ratio", "favourite_category_share", "age", "avg_order_value"],
        ["recency_gap_ratio", "favourite_category", "avg_order_value", "recency_days"],
        ["favourite_category", "favourite_category_share", "recency_days", "age"],
    ]
    for chosen in features:
        expected = [
            reason_text(f, frame.loc[i].get(f), frame.loc[i].to_dict())
            for i, f in enumerate(chosen)
        ]
        assert reason_texts(frame, chosen) == expected
    assert reason_texts(frame, features[0])[0] == (
        "Last order 83 days ago — usually orders every 47 days"
    )
    ones = pd.DataFrame({"recency_days": [1, 0, 2], "orders_count": [1, 1, 2]})
    assert reason_texts(ones, ["recency_days", "recency_days", "orders_count"]) == [
        "Last order yesterday", "Last order today", "2 orders so far"]  # fmt: skip


def test_api_answers_say_reasons_in_words_without_calendar_features(client, known_ids):
    items = client.post("/predict/batch", json={"customer_ids": known_ids}).json()["items"]
    model = client.get("/model").json()
    assert 0 < model["base_rate"] < 1
    seen = 0
    for item in items:
        pr = item["prediction"]
        assert pr["base_rate"] == model["base_rate"]
        assert 1 <= len(pr["reasons"]) <= 5
        for reason in pr["reasons"]:
            seen += 1
            assert reason["feature"] not in CALENDAR
            assert reason["text"] and "_" not in reason["text"]
            assert reason["effect"] == (
                "raises the chance" if reason["contribution"] > 0 else "lowers the chance"
            )
            assert isinstance(reason["contribution"], float)  # raw numbers stay for machines
    assert seen >= len(items)


def test_the_sample_model_would_have_used_calendar_features(client, known_ids):
    """Guard that the filter matters: without it, a calendar feature is among the top reasons
    for some of these customers (the issue saw `as_of_month = 12`)."""
    serving = client.app.state.serving.loaded
    found = [r for r in lookup(serving, known_ids) if r.found]
    frame = pd.DataFrame.from_records(
        [r.features for r in found], columns=list(serving.model.spec.names)
    )
    raw = {r.feature for e in explain(serving.model, frame, top=5) for r in e.reasons}
    assert raw & CALENDAR


def test_base_rate_is_stored_at_training_with_a_fallback_for_older_models(client):
    """Training writes the mean validation probability and 101 score percentiles; a model
    trained before that falls back to its test positive rate, and to null without one."""
    model = client.app.state.serving.loaded.model
    meta = model.metadata
    assert 0 < meta["base_rate"] < 1 and len(meta["score_quantiles"]) == 101
    assert meta["score_quantiles"] == sorted(meta["score_quantiles"])
    assert base_rate_for(model) == round(meta["base_rate"], 6)
    older = {k: v for k, v in meta.items() if k not in ("base_rate", "score_quantiles")}
    assert base_rate_for(replace(model, metadata=older)) == round(
        meta["metrics"]["positive_rate"], 6
    )
    assert base_rate_for(replace(model, metadata={**older, "metrics": {}})) is None
