"""The grain tests (`unique_combination_of_columns`, tests/generic) catch a repeated key.

Every model keyed by several columns (customer × as-of date, customer × day, ...) declares
its grain with this test; a join that fans out would repeat keys and must fail `dbt build`.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from tests.conftest import Warehouse

GRAIN_TEST = "test_name:unique_combination_of_columns"


@pytest.fixture
def copied_warehouse(warehouse, tmp_path) -> Warehouse:
    """The session warehouse's DuckDB file, copied, so a test can break it."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse.duckdb_path, path)
    return Warehouse(warehouse.raw_dir, path, warehouse.features_dir, tmp_path / "target")


def test_every_grain_holds_on_the_built_warehouse(copied_warehouse):
    out = copied_warehouse.dbt("test", "--select", GRAIN_TEST)  # raises unless dbt exits 0
    for model in ("int_customer_days", "customer_features", "customer_labels"):
        assert f"unique_combination_of_columns_{model}" in out


@pytest.mark.parametrize(
    ("table", "repeat"),
    [
        # one row copied: the whole key repeats
        ("int_customer_days", "select * from int_customer_days limit 1"),
        # a customer's as-of row again with other values: only the key repeats
        (
            "int_customer_as_of_population",
            "select * replace (not is_label_observed as is_label_observed) "
            "from int_customer_as_of_population limit 1",
        ),
    ],
)
def test_a_repeated_key_fails_the_build(copied_warehouse, table, repeat):
    with duckdb.connect(str(copied_warehouse.duckdb_path)) as con:
        con.execute(f"insert into {table} {repeat}")
    with pytest.raises(AssertionError) as failed:
        copied_warehouse.dbt("test", "--select", f"{table},{GRAIN_TEST}")
    assert f"unique_combination_of_columns_{table}" in str(failed.value)
    assert "FAIL 1" in str(failed.value)
