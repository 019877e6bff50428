"""Fixtures of the orchestration tests: the code location loaded with dbt's artifacts
(DBT_TARGET_PATH: the parsed manifest and every run's target folder) in a temporary folder,
never the checkout's target/."""

from __future__ import annotations

import importlib

import pytest


@pytest.fixture(scope="session")
def dbt_target(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        target = tmp_path_factory.mktemp("dbt-target")
        patch.setenv("DBT_TARGET_PATH", str(target))
        yield target


@pytest.fixture(scope="session")
def definitions(dbt_target):
    """orchestration.definitions, imported (so the manifest parsed) under dbt_target."""
    return importlib.import_module("orchestration.definitions")
