"""Bad input and missing data: a 4xx or a 503 with a message, never a 500."""

from __future__ import annotations

import os

import pyarrow.parquet as pq
import pytest

from tests.audiences.conftest import audience_client
from tests.audiences.scores import scores_table, write_scores

HOSTILE = [
    {"tier": "platinum"},
    {"tier": "high,gold"},
    {"favourite_category": "pizza"},
    {"favourite_category": "groceries\x00"},
    {"location": "Pune' or 1=1 --"},
    {"aov_band": "'; drop table scores; --"},
    {"payment_method": "x" * 5000},
    {"recency_band": ["30 days or less"] * 3 + ["never"]},
    {"min_probability": "nan"},
    {"min_probability": "inf"},
    {"max_probability": "-0.1"},
    {"max_probability": "1.0000001"},
    {"min_probability": "1e999"},
    {"min_probability": "abc"},
    {"min_probability": 0.8, "max_probability": 0.2},
    {"limit": 501},
    {"limit": 0},
    {"limit": "9" * 40},
    {"offset": -1},
    {"offset": "9" * 40},
    {"page": 0},
    {"page": 2, "offset": 5},
    {"sort": "probability; drop table scores"},
    {"sort": "reason_1"},
    {"order": "sideways"},
]


@pytest.mark.parametrize("params", HOSTILE, ids=lambda p: repr(p)[:60])
def test_bad_input_is_a_422_with_a_message(client, params):
    response = client.get("/audiences", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]
    if "limit" not in params and "offset" not in params and "page" not in params:
        assert client.get("/audiences.csv", params=params).status_code == 422


def test_an_unknown_value_lists_the_valid_ones(client):
    detail = client.get("/audiences", params={"favourite_category": "pizza"}).json()["detail"]
    assert "pizza" in detail and "groceries" in detail and "electronics" in detail


def test_repeated_and_odd_but_valid_params_are_answered(client):
    response = client.get("/audiences", params={
        "tier": ["high", "high", " HIGH ", ""], "min_probability": ["0.1", "0.2"],
        "limit": 500, "favourite_category": ["books", "books"]})  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == body["tiers"][0]["customers"] > 0


def test_no_score_file_is_a_503_saying_what_to_run_then_served_once_written(tmp_path):
    path = tmp_path / "scores" / "customer_scores.parquet"
    with audience_client(path, tmp_path) as client:
        for route in ("/audiences", "/audiences.csv"):
            missing = client.get(route)
            assert missing.status_code == 503
            assert "make score" in missing.json()["detail"]
            assert "python -m scoring" in missing.json()["detail"]
            assert str(tmp_path) not in missing.json()["detail"]
        write_scores(path, scores_table(50))
        assert client.get("/audiences").json()["total"] == 50


def test_a_damaged_or_foreign_file_is_a_503_then_a_good_one_is_read(tmp_path, scores_file):
    path = tmp_path / "customer_scores.parquet"
    path.write_bytes(scores_file.read_bytes()[:3000])  # truncated
    with audience_client(path, tmp_path) as client:
        damaged = client.get("/audiences")
        assert damaged.status_code == 503 and "make score" in damaged.json()["detail"]
        assert str(tmp_path) not in damaged.json()["detail"]
        path.write_bytes(b"\x00" * 10_000)
        assert client.get("/audiences.csv").status_code == 503
        pq.write_table(scores_table(20).drop(["tier", "probability"]), path)
        foreign = client.get("/audiences")
        assert foreign.status_code == 503 and "tier" in foreign.json()["detail"]
        write_scores(path, scores_table(20))
        assert client.get("/audiences").json()["total"] == 20


def test_a_replaced_file_is_seen_by_the_next_request(tmp_path):
    path = write_scores(tmp_path / "customer_scores.parquet", scores_table(300))
    with audience_client(path, tmp_path) as client:
        assert client.get("/audiences").json()["model_version"] == "test-model-1"
        write_scores(path, scores_table(120, seed=3, model_version="test-model-2"))
        body = client.get("/audiences").json()
        assert body["model_version"] == "test-model-2" and body["total"] == 120
        # rewritten in place with the same size and time: the inode or mtime still differs
        stat = path.stat()
        write_scores(path, scores_table(120, seed=4, model_version="test-model-3"))
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert client.get("/audiences").json()["model_version"] == "test-model-3"


def test_an_empty_score_file_is_an_empty_audience(tmp_path):
    path = write_scores(tmp_path / "customer_scores.parquet", scores_table(10).slice(0, 0))
    with audience_client(path, tmp_path) as client:
        body = client.get("/audiences").json()
        assert body["total"] == 0 and body["as_of_date"] is None and body["message"]
        assert client.get("/audiences", params={"location": "Pune"}).status_code == 422
        assert client.get("/audiences.csv").text.startswith('"customer_id"')


@pytest.mark.parametrize(
    "query",
    ["favourite_category=%ff%fe", "tier=%00", "location=%F0%9F%98%80", "limit=1&limit=600",
     "min_probability=0x1p-2", "offset=1e3", "tier=" + ",".join(["high"] * 5000),
     "&".join(f"location=L{i}" for i in range(150))],
)  # fmt: skip
def test_raw_hostile_query_strings_are_4xx(client, query):
    response = client.get(f"/audiences?{query}")
    assert 400 <= response.status_code < 500, response.text
