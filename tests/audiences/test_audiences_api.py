"""GET /audiences against pandas on the same file: filters, sort, pages, per-tier sums."""

from __future__ import annotations

import pandas as pd
import pytest

from api.audience_query import CSV_COLUMNS
from api.audience_schemas import Audience
from api.routes.audiences import EXAMPLE

FILTERS = [
    ({}, lambda f: f),
    ({"tier": "high"}, lambda f: f[f.tier == "high"]),
    ({"tier": "high,low"}, lambda f: f[f.tier.isin(["high", "low"])]),
    ({"tier": ["medium", "low"]}, lambda f: f[f.tier.isin(["medium", "low"])]),
    ({"min_probability": 0.4, "max_probability": 0.7},
     lambda f: f[(f.probability >= 0.4) & (f.probability <= 0.7)]),
    ({"favourite_category": "groceries"}, lambda f: f[f.favourite_category == "groceries"]),
    ({"aov_band": ["over ₹30,000", "₹5,000–30,000"]},
     lambda f: f[f.aov_band.isin(["over ₹30,000", "₹5,000–30,000"])]),
    ({"recency_band": "30 days or less", "location": "Pune", "payment_method": "upi"},
     lambda f: f[(f.recency_band == "30 days or less") & (f.location == "Pune")
                 & (f.preferred_payment_method == "upi")]),
]  # fmt: skip


@pytest.mark.parametrize(("params", "select"), FILTERS)
def test_filters_totals_and_tier_sums_equal_pandas(client, frame, params, select):
    body = client.get("/audiences", params={**params, "limit": 500}).json()
    expected = select(frame)
    assert body["total"] == len(expected) > 0
    by_tier = expected.groupby("tier").probability.agg(["count", "sum"])
    for tier in body["tiers"]:
        count, total = by_tier.loc[tier["tier"]] if tier["tier"] in by_tier.index else (0, 0.0)
        assert tier["customers"] == count
        assert tier["expected_buyers"] == pytest.approx(total, abs=1e-3)
    assert body["expected_buyers"] == pytest.approx(expected.probability.sum(), abs=1e-2)
    top = expected.sort_values(["probability", "customer_id"], ascending=[False, True])
    assert [c["customer_id"] for c in body["customers"]] == list(top.customer_id[:500])
    assert body["as_of_date"] == "2025-12-01" and body["model_version"] == "test-model-1"


def test_sort_by_another_column_ascending(client, frame):
    body = client.get(
        "/audiences", params={"sort": "avg_order_value", "order": "asc", "limit": 50}
    ).json()
    expected = frame.sort_values(["avg_order_value", "customer_id"]).customer_id[:50]
    assert [c["customer_id"] for c in body["customers"]] == list(expected)


def test_pages_cover_the_audience_once_in_order(client, frame):
    params = {"tier": "high", "limit": 97}
    first = client.get("/audiences", params=params).json()
    ids: list[str] = []
    for page in range(1, first["total"] // 97 + 2):
        ids += [c["customer_id"] for c in client.get(
            "/audiences", params={**params, "page": page}).json()["customers"]]  # fmt: skip
    high = frame[frame.tier == "high"].sort_values(
        ["probability", "customer_id"], ascending=[False, True]
    )
    assert ids == list(high.customer_id)
    by_offset = client.get("/audiences", params={**params, "offset": 97}).json()
    assert by_offset["customers"][0]["customer_id"] == ids[97] and by_offset["offset"] == 97
    past = client.get("/audiences", params={**params, "offset": 10**6}).json()
    assert past["customers"] == [] and past["total"] == len(high) and "past the end" in past[
        "message"]  # fmt: skip


def test_an_empty_audience_is_a_200_with_total_0_and_a_message(client):
    response = client.get("/audiences", params={"tier": "low", "min_probability": 0.9})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 0 and body["customers"] == [] and "no customer" in body["message"]
    assert all(t["customers"] == 0 for t in body["tiers"])


def test_reasons_come_in_words_and_filter_values_list_bands_low_to_high(client, frame):
    body = client.get("/audiences", params={"limit": 1}).json()
    row = frame.set_index("customer_id").loc[body["customers"][0]["customer_id"]]
    assert body["customers"][0]["reasons"] == [row.reason_1, row.reason_2, row.reason_3]
    assert body["filter_values"]["aov_band"] == [
        "up to ₹1,000", "₹1,000–5,000", "₹5,000–30,000", "over ₹30,000"]  # fmt: skip


def test_the_docs_example_is_a_valid_answer_and_both_routes_are_documented(client):
    Audience.model_validate(EXAMPLE)
    paths = client.get("/openapi.json").json()["paths"]
    json_200 = paths["/audiences"]["get"]["responses"]["200"]["content"]["application/json"]
    assert json_200["example"]["customers"]
    csv_200 = paths["/audiences.csv"]["get"]["responses"]["200"]["content"]["text/csv"]
    header, *rows = csv_200["example"].splitlines()
    assert header.replace('"', "").split(",") == list(CSV_COLUMNS) and rows
    assert pd.Series(["tier", "min_probability", "aov_band"]).isin(
        [p["name"] for p in paths["/audiences"]["get"]["parameters"]]).all()  # fmt: skip
