"""On a Feast version other than the verified one, nothing reads or writes Feast's storage
directly: materialization and lookups go through Feast's public API, say so in one warning
line, and give the same answers as the fast path."""

from __future__ import annotations

import logging
from importlib.metadata import version

import feast
import pytest
from feast import FeatureStore

from feature_repo import online_layout
from feature_repo.materialize import materialize_latest
from feature_repo.online_reader import OnlineReader
from feature_repo.store import apply_definitions, open_store
from tests.feature_store.test_materialize import _sqlite_rows
from tests.feature_store.test_online_reader import _latest_ids


def test_the_gate_reads_the_installed_feast_version():
    assert online_layout.installed_feast_version() == version("feast") == feast.__version__


@pytest.fixture
def public_calls(monkeypatch) -> dict[str, int]:
    """Count calls of Feast's public write and read (the real methods still run)."""
    calls = {"write_to_online_store": 0, "get_online_features": 0}
    for name in calls:
        real = getattr(FeatureStore, name)

        def counted(self, *args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(FeatureStore, name, counted)
    return calls


def test_another_feast_version_uses_the_public_api_with_the_same_answers(
    feature_store, warehouse, tmp_path, monkeypatch, caplog, public_calls
):
    ids = [*_latest_ids(warehouse, 40), "NOBODY123"]
    fast_reader = OnlineReader(feature_store)
    assert online_layout.layout_kind(feature_store) == "sqlite" and not fast_reader.via_feast
    fast = fast_reader.read(ids)
    assert public_calls == {"write_to_online_store": 0, "get_online_features": 0}

    monkeypatch.setattr(online_layout, "VERIFIED_FEAST_VERSION", "0.0.0-not-this-one")
    data_dir = tmp_path / "public"
    with caplog.at_level(logging.WARNING, logger="feature_repo.online_layout"):
        store = open_store(data_dir=data_dir)
        apply_definitions(store, features_dir=warehouse.features_dir)
        report = materialize_latest(store)
        reader = OnlineReader(store)
        public = reader.read(ids)
    assert online_layout.layout_kind(store) is None and reader.via_feast
    assert report.customers > 0
    assert public_calls["write_to_online_store"] > 0 and public_calls["get_online_features"] > 0

    assert public == fast  # found, as-of time and every value
    # Feast's own writer stored the same rows, byte for byte, as the fast writer did
    assert _sqlite_rows(data_dir) == _sqlite_rows(feature_store.feast_data_dir)
    lines = [r for r in caplog.records if "0.0.0-not-this-one" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    assert version("feast") in lines[0].getMessage()
