"""The origin's four claims, through the whole pipeline: generated log → dbt build → the
segment_repeat_rates Parquet → GET /insights. On the default process every claim is
supported; on the same log generated with --no-segment-effects none is, so the verdicts
follow the data, not the code."""

from __future__ import annotations

import duckdb
import pytest

from api.segment_rates import wilson_interval
from tests.insights.conftest import insights_client, mart

pytestmark = pytest.mark.slow

CLAIMS = ("high_spenders", "three_plus_orders", "groceries_vs_electronics", "weekend_and_holiday")
DIMENSIONS = {
    "avg_order_value", "orders_count", "favourite_category", "weekend_order_share",
    "holiday_order_share", "preferred_payment_method", "location",
}  # fmt: skip


def _insights(warehouse, tmp_path) -> dict:
    with insights_client(mart(warehouse), tmp_path) as client:
        response = client.get("/insights")
    assert response.status_code == 200, response.text
    return response.json()


def test_on_the_default_sample_every_origin_claim_is_supported(with_effects, tmp_path):
    body = _insights(with_effects, tmp_path)
    verdicts = {claim["id"]: claim["verdict"] for claim in body["claims"]}
    assert verdicts == dict.fromkeys(CLAIMS, "supported"), [c["summary"] for c in body["claims"]]
    assert {s["dimension"] for s in body["segments"]} == DIMENSIONS
    (labelled,) = body["as_of_dates"]  # the grid's other date has an open window
    assert body["as_of_date"] == labelled
    for claim in body["claims"]:  # the evidence: both groups, counted and bounded
        for comparison in claim["comparisons"]:
            higher, lower = comparison["higher"], comparison["lower"]
            assert higher["ci_low"] > lower["ci_high"]
            assert min(higher["customers"], lower["customers"]) >= body["min_customers"]


def test_without_segment_effects_no_claim_is_supported(with_effects, without_effects, tmp_path):
    body = _insights(without_effects, tmp_path)
    verdicts = {claim["id"]: claim["verdict"] for claim in body["claims"]}
    assert verdicts == dict.fromkeys(CLAIMS, "not supported"), [
        c["summary"] for c in body["claims"]
    ]
    # the same marginal repeat rate: only where the repeaters are has changed
    default = _insights(with_effects, tmp_path)

    def overall(answer: dict) -> float:
        rows = [s for s in answer["segments"] if s["dimension"] == "orders_count"]
        return sum(s["repeaters"] for s in rows) / sum(s["customers"] for s in rows)

    assert abs(overall(body) - overall(default)) < 0.05


def test_every_labelled_customer_is_in_one_segment_of_every_dimension(with_effects):
    features = with_effects.features_dir
    with duckdb.connect() as con:
        totals = con.sql(f"""
            select as_of_date, count(*) as customers, sum(repeat_30d) as repeaters,
                   count(*) filter (where f.avg_order_value > 30000) as high_spenders,
                   count(*) filter (where f.orders_count >= 3) as three_plus
            from '{features}/customer_labels.parquet' l
            join '{features}/customer_features.parquet' f using (customer_id, as_of_date)
            group by as_of_date""").fetchall()
        rates = con.sql(f"""
            select as_of_date, dimension, sum(customers), sum(repeaters),
                   sum(customers) filter (where segment = 'over ₹30,000'),
                   sum(customers) filter (where segment in ('3–5 orders', '6–10 orders',
                                                           'over 10 orders'))
            from '{mart(with_effects)}' group by all""").fetchall()
    assert len(totals) == 1
    ((day, customers, repeaters, high_spenders, three_plus),) = totals
    assert {row[1] for row in rates} == DIMENSIONS
    for as_of, dimension, n, k, high, loyal in rates:
        assert (as_of, n, k) == (day, customers, repeaters), dimension
        if dimension == "avg_order_value":
            assert high == high_spenders
        if dimension == "orders_count":
            assert loyal == three_plus


def test_the_apis_wilson_interval_is_the_marts(with_effects):
    """Pooled groups get their interval in Python; single segments got theirs in SQL."""
    with duckdb.connect() as con:
        rows = con.sql(
            f"select repeaters, customers, ci_low, ci_high from '{mart(with_effects)}'"
        ).fetchall()
    assert len(rows) > 30
    for repeaters, customers, low, high in rows:
        assert wilson_interval(repeaters, customers) == pytest.approx((low, high), abs=1.5e-6)
