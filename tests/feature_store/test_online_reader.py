"""The fast online reader answers exactly what Feast's own get_online_features answers.

feature_repo.online_reader reads Feast's SQLite tables directly and decodes values itself;
these tests hold it to Feast's public API (found flag, as-of time, every feature value) on
the session's store, and check the two things a long-running API needs from it: an online
database that appears only after start-up, and one that is replaced, are both picked up.
(The same equality on a real Redis is in test_redis.py.) The reader reads ids as given: the
edges (feature_repo.lookup, api.scoring) normalise them, once.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from feature_repo.lookup import InvalidCustomerId, get_online_features
from feature_repo.materialize import materialize_latest
from feature_repo.online_reader import OnlineReader, read_via_feast
from feature_repo.store import apply_definitions, open_store


def _latest_ids(warehouse, n: int) -> list[str]:
    frame = pd.read_parquet(warehouse.features_dir / "customer_features.parquet")
    latest = frame[frame["event_timestamp"] == frame["event_timestamp"].max()]
    return sorted(latest["customer_id"].unique())[:n]


def assert_same_reads(store, ids: list[str]) -> None:
    expected = read_via_feast(store, ids)
    reader = OnlineReader(store)
    assert not reader.via_feast  # the fast backend is what is compared
    got = reader.read(ids)
    assert len(got) == len(expected) == len(ids)
    for a, b in zip(got, expected, strict=True):
        assert (a.customer_id, a.found, a.as_of) == (b.customer_id, b.found, b.as_of)
        assert a.features == b.features  # every name and value, nulls included


def test_reader_equals_feast_for_known_unknown_and_repeated_ids(feature_store, warehouse):
    known = _latest_ids(warehouse, 300)
    ids = [*known, "NOBODY123", known[0].lower(), known[3]]
    assert_same_reads(feature_store, ids)
    rows = OnlineReader(feature_store).read(ids)
    assert sum(r.found for r in rows) == len(ids) - 2  # NOBODY123, and the lower-cased id
    assert OnlineReader(feature_store).read([]) == []


def test_ids_are_normalised_at_the_lookup_not_in_the_reader(feature_store, warehouse):
    """The reader looks ids up as given (the API has normalised them already); the lookup
    for people normalises, and refuses what no customer can be."""
    (known,) = _latest_ids(warehouse, 1)
    padded = f"  {known}\u00a0"
    (raw,) = OnlineReader(feature_store).read([padded])
    assert not raw.found and raw.customer_id == padded
    (row,) = get_online_features(feature_store, [padded])
    assert row.found and row.customer_id == known
    with pytest.raises(InvalidCustomerId):
        get_online_features(feature_store, ["C1\x00; DROP TABLE x"])
    (text,) = get_online_features(feature_store, ["C1'; DROP TABLE x; --"])  # valid, only text
    assert not text.found


def test_database_created_after_start_up_and_replaced_later(warehouse, tmp_path):
    """The API builds its reader at start-up, possibly before the first materialization."""
    store = open_store(data_dir=tmp_path / "late")
    apply_definitions(store, features_dir=warehouse.features_dir)
    online_db = tmp_path / "late" / "online_store.db"
    online_db.unlink(missing_ok=True)
    reader = OnlineReader(store)
    ids = _latest_ids(warehouse, 5)
    with pytest.raises(Exception):  # noqa: B017 - any error: the API turns it into a 503
        reader.read(ids)

    # `make materialize` (its own process, so its own store): creates the tables, writes
    materialize_latest(open_store(data_dir=tmp_path / "late"), full=True)
    first = reader.read(ids)
    assert all(r.found for r in first)

    # another store's file, with one customer's spend changed, replaces this one
    features_dir = tmp_path / "changed"
    features_dir.mkdir()
    frame = pd.read_parquet(warehouse.features_dir / "customer_features.parquet")
    latest = frame["event_timestamp"] == frame["event_timestamp"].max()
    frame.loc[latest & (frame["customer_id"] == ids[0]), "total_spend"] += 100.0
    frame.to_parquet(features_dir / "customer_features.parquet", index=False)
    other = open_store(data_dir=tmp_path / "other")
    apply_definitions(other, features_dir=features_dir)
    materialize_latest(other, full=True)
    shutil.copy(tmp_path / "other" / "online_store.db", tmp_path / "swap.db")
    (tmp_path / "swap.db").replace(online_db)

    (after,) = reader.read(ids[:1])
    assert after.features["total_spend"] == pytest.approx(first[0].features["total_spend"] + 100)


def test_cached_reader_answers_repeats_from_memory_and_sees_every_commit(warehouse, tmp_path):
    """With cache_size the API's reader skips SQLite for ids it has read, yet a
    materialization (another connection's commit) is visible on the very next read."""
    features_dir = tmp_path / "features"
    features_dir.mkdir()
    path = features_dir / "customer_features.parquet"
    shutil.copy(warehouse.features_dir / "customer_features.parquet", path)
    store = open_store(data_dir=tmp_path / "feast")
    apply_definitions(store, features_dir=features_dir)
    materialize_latest(store, full=True)

    reader = OnlineReader(store, cache_size=100)
    ids = [*_latest_ids(warehouse, 5), "NOBODY123"]
    first = reader.read(ids)
    assert first == OnlineReader(store).read(ids)  # the same answer as the uncached reader

    queries = []
    real_read = reader._backend.read
    reader._backend.read = lambda part: queries.append(part) or real_read(part)
    assert reader.read(ids) == first and queries == []  # all from memory, misses included
    assert reader.read([*ids, _latest_ids(warehouse, 6)[-1]])[-1].found
    assert queries == [[_latest_ids(warehouse, 6)[-1]]]  # only the new id went to SQLite

    frame = pd.read_parquet(path)
    row = (frame["event_timestamp"] == frame["event_timestamp"].max()) & (
        frame["customer_id"] == ids[0]
    )
    frame.loc[row, "total_spend"] += 50.0
    frame.to_parquet(path, index=False)
    assert materialize_latest(open_store(data_dir=tmp_path / "feast")).customers == 1

    (after,) = reader.read(ids[:1])
    assert after.features["total_spend"] == pytest.approx(first[0].features["total_spend"] + 50)
