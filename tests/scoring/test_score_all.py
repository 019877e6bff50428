"""`python -m scoring`: every customer of the latest as-of date once, in the contract's
schema, with the API's own answers; snapshots per date; plain errors instead of tracebacks."""

from __future__ import annotations

import os

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from scoring.schema import SCHEMA, SCORES_FILE, SNAPSHOTS_DIR
from scoring.score_all import latest_as_of, score_all, snapshot_path
from tests.scoring.conftest import run_scoring


def _latest_ids(features_dir) -> list[str]:
    path = features_dir / "customer_features.parquet"
    return [
        r[0]
        for r in duckdb.sql(
            f"select customer_id from '{path}' "
            f"where as_of_date = (select max(as_of_date) from '{path}')"
        ).fetchall()
    ]


def test_every_customer_of_the_latest_date_appears_once(scores_dir, warehouse):
    table = pq.read_table(scores_dir / SCORES_FILE)
    ids = table.column("customer_id").to_pylist()
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(_latest_ids(warehouse.features_dir))
    latest = latest_as_of(warehouse.features_dir / "customer_features.parquet")
    assert set(table.column("as_of_date").to_pylist()) == {latest}
    assert set(table.column("tier").to_pylist()) <= {"high", "medium", "low"}
    assert table.column("reason_1").null_count == 0  # every customer has a reason in words


def test_the_files_have_exactly_the_contract_schema(scores_dir):
    for path in (scores_dir / SCORES_FILE, *(scores_dir / SNAPSHOTS_DIR).rglob(SCORES_FILE)):
        assert pq.read_schema(path).remove_metadata().equals(SCHEMA), path


def test_the_latest_file_is_the_latest_dates_snapshot(scores_dir, warehouse):
    latest = latest_as_of(warehouse.features_dir / "customer_features.parquet")
    snapshot = pq.read_table(snapshot_path(scores_dir, latest))
    assert snapshot.equals(pq.read_table(scores_dir / SCORES_FILE))


def test_snapshots_of_earlier_dates_are_kept_and_a_rescore_replaces_only_its_own(
    warehouse, trained_models, tmp_path
):
    features = warehouse.features_dir / "customer_features.parquet"
    dates = [
        r[0]
        for r in duckdb.sql(f"select distinct as_of_date from '{features}' order by 1").fetchall()
    ]
    earlier, latest = dates[-2], dates[-1]
    model = trained_models / "current"
    first = score_all(features, model, tmp_path, as_of=earlier, progress=False)
    assert first.snapshot == snapshot_path(tmp_path, earlier)
    kept = first.snapshot.stat().st_mtime_ns
    score_all(features, model, tmp_path, progress=False)  # the latest date
    os.utime(snapshot_path(tmp_path, latest), ns=(0, 0))
    score_all(features, model, tmp_path, progress=False)  # the latest date, again
    assert first.snapshot.stat().st_mtime_ns == kept
    assert snapshot_path(tmp_path, latest).stat().st_mtime_ns != 0
    by_date = {
        p.parent.name: pq.read_table(p).column("as_of_date").to_pylist()
        for p in (tmp_path / SNAPSHOTS_DIR).rglob(SCORES_FILE)
    }
    assert set(by_date) == {f"as_of_date={earlier}", f"as_of_date={latest}"}
    assert set(by_date[f"as_of_date={earlier}"]) == {earlier}
    assert pq.read_table(tmp_path / SCORES_FILE).column("as_of_date")[0].as_py() == latest
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_no_model_is_a_plain_error_with_exit_code_2(warehouse, tmp_path):
    run = run_scoring(
        {
            "FEATURES_DIR": str(warehouse.features_dir),
            "MODELS_DIR": str(tmp_path / "no-models"),
            "SCORES_DIR": str(tmp_path / "scores"),
        }
    )
    assert run.returncode == 2
    assert "no model at" in run.stderr and "make train" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "scores" / SCORES_FILE).exists()


def test_no_features_is_a_plain_error_with_exit_code_2(trained_models, tmp_path):
    run = run_scoring(
        {
            "FEATURES_DIR": str(tmp_path / "no-features"),
            "MODELS_DIR": str(trained_models),
            "SCORES_DIR": str(tmp_path / "scores"),
        }
    )
    assert run.returncode == 2
    assert "no features at" in run.stderr and "Traceback" not in run.stderr


def test_a_customer_with_every_feature_missing_still_scores(warehouse, trained_models, tmp_path):
    features = warehouse.features_dir / "customer_features.parquet"
    table = pq.read_table(features)
    latest = latest_as_of(features)
    rows = table.filter(pa.compute.equal(table.column("as_of_date"), pa.scalar(latest)))
    nullable = pa.schema([f.with_nullable(True) for f in rows.schema])
    blank = {
        name: [None] * 1
        for name in nullable.names
        if name not in ("customer_id", "as_of_date", "event_timestamp")
    }
    blank |= {
        "customer_id": ["BLANK-1"],
        "as_of_date": [latest],
        "event_timestamp": [rows.column("event_timestamp")[0].as_py()],
    }
    blank_row = pa.table(blank, schema=nullable)
    path = tmp_path / "customer_features.parquet"
    pq.write_table(pa.concat_tables([rows.cast(nullable), blank_row]), path)
    summary = score_all(path, trained_models / "current", tmp_path / "scores", progress=False)
    assert summary.customers == rows.num_rows + 1
    scores = pq.read_table(tmp_path / "scores" / SCORES_FILE).to_pandas()
    row = scores[scores["customer_id"] == "BLANK-1"].iloc[0]
    assert 0.0 <= row["probability"] <= 1.0
    assert row["aov_band"] == row["orders_band"] == row["recency_band"] == "unknown"
    assert row["tier"] in ("high", "medium", "low")
