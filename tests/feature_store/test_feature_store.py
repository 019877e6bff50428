"""Feast over the dbt marts: schema from the contract, point-in-time joins, no skew."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from feature_repo import definitions
from feature_repo.contract import feature_columns, mart_columns
from feature_repo.lookup import InvalidCustomerId, get_online_features
from modeling.dataset import feature_spec, load_labels, training_frame


def test_every_contract_column_is_in_exactly_one_view_with_its_type():
    placed: dict[str, list[str]] = {}
    for view in definitions.FEATURE_VIEWS:
        for f in view.features:
            placed.setdefault(f.name, []).append(view.name)
    contract = {c.name: c.data_type for c in feature_columns()}
    assert set(placed) == set(contract)
    assert all(len(views) == 1 for views in placed.values()), placed
    for view in definitions.FEATURE_VIEWS:
        for f in view.features:
            assert f.dtype == definitions.FEAST_TYPES[contract[f.name]], f.name


def test_feast_apply_reads_only_the_definitions():
    """`feast apply` imports every module in feature_repo/ not in .feastignore, from inside
    the folder, where `feature_repo.*` imports fail: each helper module must be listed."""
    folder = Path(definitions.__file__).parent
    ignored = {
        line.strip()
        for line in (folder / ".feastignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    modules = {p.name for p in folder.glob("*.py")}
    assert modules - ignored == {"definitions.py"}


def test_the_parquet_mart_has_the_contract_schema(warehouse):
    path = warehouse.features_dir / "customer_features.parquet"
    schema = duckdb.sql(f"describe select * from read_parquet('{path}')").fetchall()
    assert [(name, typ.lower()) for name, typ, *_ in schema] == [
        (c.name, c.data_type) for c in mart_columns("customer_features")
    ]


def test_feature_service_lists_every_feature(feature_store):
    spec = feature_spec(feature_store)
    assert set(spec.names) == {c.name for c in feature_columns()}


def test_training_set_equals_a_direct_point_in_time_query(feature_store, warehouse):
    labels = load_labels(warehouse.features_dir / "customer_labels.parquet")
    frame = training_frame(feature_store, labels)
    assert len(frame) == len(labels), "Feast dropped or duplicated entity rows"
    direct = warehouse.query(
        """
        select l.customer_id, l.as_of_date, l.repeat_30d, f.* exclude (customer_id, as_of_date,
            event_timestamp)
        from customer_labels l
        join read_parquet('{}') f
          on f.customer_id = l.customer_id and f.as_of_date = l.as_of_date
        """.format(warehouse.features_dir / "customer_features.parquet")
    )
    direct["as_of_date"] = pd.to_datetime(direct["as_of_date"]).dt.date
    key = ["customer_id", "as_of_date"]
    columns = [c.name for c in feature_columns()]
    left = frame.sort_values(key).reset_index(drop=True)[[*key, "repeat_30d", *columns]]
    right = direct.sort_values(key).reset_index(drop=True)[[*key, "repeat_30d", *columns]]
    assert len(right) == len(left)
    for column in columns:
        a, b = left[column], right[column]
        assert (a.isna() == b.isna()).all(), column
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=1e-12, err_msg=column)
        else:
            assert (a[a.notna()].astype(str) == b[b.notna()].astype(str)).all(), column


def _assert_online_equals_latest_offline(store, warehouse, customer_ids):
    offline = pd.read_parquet(warehouse.features_dir / "customer_features.parquet")
    latest = offline[offline["event_timestamp"] == offline["event_timestamp"].max()]
    latest = latest.set_index("customer_id")
    rows = get_online_features(store, customer_ids)
    assert all(r.found for r in rows)
    for row in rows:
        expected = latest.loc[row.customer_id]
        assert row.as_of.replace(tzinfo=None) == expected["event_timestamp"].to_pydatetime()
        for c in feature_columns():
            value, want = row.features[c.name], expected[c.name]
            if pd.isna(want):
                assert value is None or (isinstance(value, float) and np.isnan(value)), c.name
            elif c.data_type == "double":
                assert value == pytest.approx(float(want), rel=1e-12), c.name
            else:
                assert value == want, (c.name, value, want)


def test_online_features_equal_offline_features_at_the_latest_as_of_date(feature_store, warehouse):
    customers = sorted(pd.read_parquet(warehouse.features_dir / "customer_features.parquet")
                       ["customer_id"].unique())[:40]  # fmt: skip
    _assert_online_equals_latest_offline(feature_store, warehouse, customers)


def test_unknown_customers_are_not_found_and_bad_ids_are_refused(feature_store):
    (row,) = get_online_features(feature_store, ["NO-SUCH-CUSTOMER"])
    assert not row.found and row.features == {} and row.as_of is None
    for bad in ["", " ", "NULL", " n/a ", "x" * 129, "C1\x00", "\ud800"]:
        with pytest.raises(InvalidCustomerId):
            get_online_features(feature_store, [bad])


def test_ids_are_normalised_like_staging(feature_store, warehouse):
    customer = pd.read_parquet(warehouse.features_dir / "customer_features.parquet")[
        "customer_id"
    ].iloc[0]
    (row,) = get_online_features(feature_store, [f"  {customer}\u00a0"])
    assert row.found and row.customer_id == customer
    (row,) = get_online_features(feature_store, [customer.lower()])
    assert not row.found  # case is kept, as staging keeps it
