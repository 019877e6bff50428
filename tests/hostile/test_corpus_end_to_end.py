"""The hostile corpus (tests/hostile/corpus.py) through importer → dbt → Feast → API.

Every raw line must end where the corpus says: kept under the stated id, removed as an exact
duplicate, or rejected with the stated reason; and the API must agree with staging about ids:
what staging kept is found by id over HTTP (URL-encoded, whatever its characters), the same
customer written with other spaces is the same customer, and what staging refused is a 422
with a message, never a 500.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.conftest import REPO_ROOT, Warehouse, materialized_store
from tests.hostile import corpus


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """The corpus written as a user's CSV and imported; (raw dir, importer output, rows)."""
    source = tmp_path_factory.mktemp("hostile_source")
    csv_path, _ = corpus.write(source)
    raw_dir = tmp_path_factory.mktemp("hostile_raw")
    result = subprocess.run(
        [sys.executable, "-m", "ingest.load", str(csv_path), "--out", str(raw_dir)],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return raw_dir, result.stdout, corpus.rows()


@pytest.fixture(scope="module")
def hostile_warehouse(imported, tmp_path_factory):
    """The corpus' dbt build; `.output` is what `dbt build` printed."""
    raw_dir, _, _ = imported
    root = tmp_path_factory.mktemp("hostile_warehouse")
    warehouse = Warehouse(raw_dir, root / "warehouse.duckdb", root / "features", root / "target")
    warehouse.output = warehouse.dbt("build")  # the features folder is dbt's to create
    return warehouse


@pytest.fixture(scope="module")
def hostile_store(hostile_warehouse, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("hostile_feast")
    return materialized_store(hostile_warehouse.features_dir, data_dir).feast_data_dir


@pytest.fixture(scope="module")
def api(hostile_store, trained_models):
    """The session's trained model served over the hostile corpus' online store."""
    settings = Settings(models_dir=trained_models, feast_data_dir=hostile_store, _env_file=None)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_the_importer_accounts_for_every_line(imported):
    _, output, rows = imported
    assert f"read {len(rows):,} rows" in output
    assert f"{len(rows):,} read = {len(rows):,} kept + 0 set aside" in output


def test_staging_puts_every_line_where_the_corpus_says(hostile_warehouse, imported):
    _, _, rows = imported
    rejected = hostile_warehouse.query(
        "select reject_reason, count(*) as n from stg_transaction_rejects group by all"
    )
    expected_rejects = Counter(r.fate for r in rows if r.fate not in ("kept", "duplicate"))
    assert dict(zip(rejected["reject_reason"], rejected["n"], strict=True)) == expected_rejects

    duplicates = hostile_warehouse.query("select count(*) as n from stg_transaction_duplicates")
    assert duplicates["n"][0] == sum(r.fate == "duplicate" for r in rows)

    kept = hostile_warehouse.query(
        "select customer_id, count(*) as n from stg_transactions group by all"
    )
    expected_kept = Counter(r.stored_id for r in rows if r.fate == "kept")
    assert dict(zip(kept["customer_id"], kept["n"], strict=True)) == expected_kept


def test_dbt_build_tells_the_user_the_counts(hostile_warehouse, imported):
    """The summary dbt prints after the build names every reject reason with its count."""
    _, _, rows = imported
    fates = Counter(r.fate for r in rows)
    output = hostile_warehouse.output
    removed = fates["duplicate"] + sum(n for fate, n in fates.items() if "_" in fate)
    assert (
        f"Staging summary: {len(rows)} raw rows read, {len(rows) - removed} kept, "
        f"{fates['duplicate']} deduplicated, {removed - fates['duplicate']} rejected"
    ) in output
    for fate, count in fates.items():
        if fate not in ("kept", "duplicate"):
            assert f"rejected {fate}: {count}" in output
    assert f"deduplicated exact_row: {fates['duplicate']}" in output


def test_every_kept_customer_is_online(hostile_store, hostile_warehouse, imported):
    features = hostile_warehouse.query(
        "select distinct customer_id from customer_features "
        "where event_timestamp = (select max(event_timestamp) from customer_features)"
    )
    _, _, rows = imported
    assert set(features["customer_id"]) == {r.stored_id for r in rows if r.fate == "kept"}


@pytest.mark.parametrize("stored_id", sorted(set(corpus.GOOD_IDS.values())))
def test_every_kept_id_is_found_over_http(api, stored_id):
    response = api.get(f"/customers/{quote(stored_id, safe='')}/prediction")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["customer_id"] == stored_id
    assert 0.0 <= body["probability"] <= 1.0


@pytest.mark.parametrize("raw_id", sorted(corpus.VARIANTS) + sorted(corpus.GOOD_IDS))
def test_the_api_normalises_ids_as_staging_does(api, raw_id):
    expected = {**corpus.GOOD_IDS, **corpus.VARIANTS}[raw_id]
    response = api.post("/predict", json={"customer_id": raw_id})
    assert response.status_code == 200, response.text
    assert response.json()["customer_id"] == expected


@pytest.mark.parametrize("raw_id", corpus.MISSING_IDS + corpus.INVALID_IDS)
def test_ids_staging_refuses_are_refused_with_a_message(api, raw_id):
    response = api.post("/predict", json={"customer_id": raw_id})
    assert response.status_code == 422, response.text
    assert "customer_id" in json.dumps(response.json())
    batch = api.post("/predict/batch", json={"customer_ids": ["C100", raw_id]})
    assert batch.status_code in (200, 422), batch.text
