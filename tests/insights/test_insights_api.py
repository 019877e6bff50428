"""GET /insights on bad input and missing data: a 4xx or a 503 with a message, never a 500;
and the example /docs shows is a real, valid answer."""

from __future__ import annotations

import shutil

import pyarrow.parquet as pq
import pytest

from api.insight_schemas import Insights
from api.routes.insights import EXAMPLE
from api.segment_rates import wilson_interval
from tests.insights.conftest import insights_client, mart

pytestmark = pytest.mark.slow


def test_no_mart_yet_says_what_to_run_then_serves_it_once_built(with_effects, tmp_path):
    path = tmp_path / "features" / "segment_repeat_rates.parquet"
    with insights_client(path, tmp_path) as client:
        missing = client.get("/insights")
        assert missing.status_code == 503
        assert "make features" in missing.json()["detail"]
        assert str(tmp_path) not in missing.json()["detail"]  # no server paths
        path.parent.mkdir()
        shutil.copy(mart(with_effects), path)  # what `make features` does
        assert client.get("/insights").status_code == 200


def test_a_damaged_or_empty_mart_is_a_503_with_a_message(with_effects, tmp_path):
    path = tmp_path / "segment_repeat_rates.parquet"
    path.write_bytes(mart(with_effects).read_bytes()[:500])  # a truncated copy
    with insights_client(path, tmp_path) as client:
        damaged = client.get("/insights")
        assert damaged.status_code == 503 and "make features" in damaged.json()["detail"]
        table = pq.read_table(mart(with_effects))
        pq.write_table(table.slice(0, 0), path)  # a history too short for any closed window
        empty = client.get("/insights")
        assert empty.status_code == 503 and "too short" in empty.json()["detail"]


@pytest.mark.parametrize(
    "as_of",
    ["yesterday", "2025-02-30", "2025-13-01", "", "1" * 5000, "2025-12-01'; drop table x"],
)
def test_a_malformed_as_of_is_a_422(with_effects, tmp_path, as_of):
    with insights_client(mart(with_effects), tmp_path) as client:
        response = client.get("/insights", params={"as_of": as_of})
    assert response.status_code == 422, response.text


def test_an_as_of_date_without_a_closed_window_is_a_404_naming_the_dates(with_effects, tmp_path):
    latest = with_effects.query("select max(as_of_date) as d from int_as_of_dates")["d"][0]
    with insights_client(mart(with_effects), tmp_path) as client:
        labelled = client.get("/insights").json()["as_of_date"]
        response = client.get("/insights", params={"as_of": str(latest.date())})
        assert response.status_code == 404
        assert labelled in response.json()["detail"]
        assert client.get("/insights", params={"as_of": labelled}).json()["as_of_date"] == labelled


def test_groups_below_the_minimum_count_get_not_enough_data(with_effects, tmp_path):
    with insights_client(mart(with_effects), tmp_path, insights_min_customers=1_000_000) as client:
        body = client.get("/insights").json()
    assert {claim["verdict"] for claim in body["claims"]} == {"not enough data"}
    assert all("fewer than 1000000 customers" in claim["summary"] for claim in body["claims"])


def test_docs_show_a_real_example(tmp_path, with_effects):
    example = Insights.model_validate(EXAMPLE)
    assert [c.verdict for c in example.claims] == ["supported"] * 4
    for segment in example.segments:
        assert wilson_interval(segment.repeaters, segment.customers) == pytest.approx(
            (segment.ci_low, segment.ci_high), abs=1.5e-6
        )
    with insights_client(mart(with_effects), tmp_path) as client:
        spec = client.get("/openapi.json").json()
    ok = spec["paths"]["/insights"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["example"] == EXAMPLE
