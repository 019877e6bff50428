"""GET /audiences.csv: every matching customer, streamed in batches, formula-safe."""

from __future__ import annotations

import csv
import io

import pyarrow as pa

from api.audience_query import CSV_COLUMNS, AudienceFilter, reader_for
from scoring.schema import SCHEMA
from tests.audiences.conftest import audience_client
from tests.audiences.scores import scores_table, write_scores


def test_the_csv_holds_every_matching_customer_in_order(client, frame):
    params = {"tier": ["high", "medium"], "favourite_category": "books"}
    response = client.get("/audiences.csv", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="audience-2025-12-01-high-medium.csv"' in response.headers[
        "content-disposition"]  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(response.text)))
    expected = frame[frame.tier.isin(["high", "medium"]) & (frame.favourite_category == "books")]
    total = client.get("/audiences", params=params).json()["total"]
    assert len(rows) == len(expected) == total == int(response.headers["x-total-count"])
    assert tuple(rows[0]) == CSV_COLUMNS
    ordered = expected.sort_values(["probability", "customer_id"], ascending=[False, True])
    assert [r["customer_id"] for r in rows] == list(ordered.customer_id)
    first = ordered.iloc[0]
    assert rows[0]["action"] == first.action and rows[0]["reason_1"] == first.reason_1


def test_the_csv_is_streamed_in_batches(scores_file, frame, tmp_path):
    snapshot = reader_for(scores_file).current()
    chunks = list(snapshot.csv_batches(AudienceFilter(), "probability", True, rows_per_batch=700))
    assert len(chunks) == -(-len(frame) // 700)  # one chunk per batch, none all at once
    assert sum(chunk.count(b"\n") for chunk in chunks) == len(frame) + 1  # + the header
    with (
        audience_client(scores_file, tmp_path) as client,
        client.stream("GET", "/audiences.csv") as response,
    ):
        assert "content-length" not in response.headers  # chunked, not buffered
        assert sum(len(c) for c in response.iter_bytes()) == sum(len(c) for c in chunks)


def test_cells_a_spreadsheet_would_run_are_quoted(tmp_path):
    table = scores_table(4).to_pandas()
    table["reason_1"] = ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)"]
    table["location"] = ["=cmd|' /C calc'!A0", "Pune", "Pune", "Pune"]
    path = write_scores(
        tmp_path / "customer_scores.parquet",
        pa.Table.from_pandas(table, schema=SCHEMA, preserve_index=False),
    )
    with audience_client(path, tmp_path) as client:
        rows = list(csv.DictReader(io.StringIO(client.get("/audiences.csv").text)))
    cells = [r[c] for r in rows for c in CSV_COLUMNS]
    assert not any(cell[:1] in "=+-@" and cell for cell in cells), cells
    assert "'=cmd|' /C calc'!A0" in cells and "'-2" in cells


def test_a_csv_being_streamed_keeps_its_file_version_when_the_file_is_replaced(tmp_path):
    path = write_scores(tmp_path / "customer_scores.parquet", scores_table(3_000))
    reader = reader_for(path)
    stream = reader.current().csv_batches(AudienceFilter(), "probability", True, 500)
    first = next(stream)
    write_scores(path, scores_table(10, model_version="test-model-2"))
    assert reader.current().count(AudienceFilter()) == 10  # new requests see the new file
    rest = b"".join(stream)
    assert (first + rest).count(b"\n") == 3_001 and b"test-model-2" not in rest
