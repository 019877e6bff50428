"""Shared fixtures: small generated datasets, built once per test session under tmp paths."""

from __future__ import annotations

import duckdb
import pytest

from ingest.generate import GenerationSummary, generate

CLEAN_CUSTOMERS = 6_000


@pytest.fixture(scope="session")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    """A clean sample big enough for effect and calibration checks (~0.6 s to build)."""
    return generate(CLEAN_CUSTOMERS, seed=11, out=tmp_path_factory.mktemp("clean"))


@pytest.fixture(scope="session")
def dirty_run(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate(3_000, seed=12, out=tmp_path_factory.mktemp("dirty"), dirty_rate=0.05)


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()
