"""Leakage: orders after an as-of date must not change any feature at that date."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import build_warehouse


def _features(warehouse) -> pd.DataFrame:
    frame = pd.read_parquet(warehouse.features_dir / "customer_features.parquet")
    frame["as_of_date"] = pd.to_datetime(frame["as_of_date"])
    return frame.sort_values(["customer_id", "as_of_date"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def tampered(warehouse, tmp_path_factory):
    """The session sample with every order after a mid-history as-of date T rewritten."""
    features = _features(warehouse)
    dates = sorted(features["as_of_date"].unique())
    cutoff = pd.Timestamp(dates[len(dates) // 2])
    raw = pd.read_parquet(warehouse.raw_dir / "transactions.parquet")
    ordered_at = pd.to_datetime(raw["order_date"])
    after = ordered_at >= cutoff + pd.Timedelta(days=1)
    raw.loc[after, "amount"] = "99999.00"
    raw.loc[after, "category"] = "electronics"
    raw.loc[after, "payment_method"] = "cod"
    # and a burst of new orders right after T, the first at 00:00 of T + 1
    extra = raw[~after].drop_duplicates("customer_id").head(50).copy()
    extra["order_id"] = "LEAK-" + extra["customer_id"]
    extra["order_date"] = (cutoff + pd.Timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    extra["amount"] = "1.00"
    tampered_raw = pd.concat([raw, extra], ignore_index=True)
    raw_dir = tmp_path_factory.mktemp("tampered_raw")
    tampered_raw.to_parquet(raw_dir / "transactions.parquet", index=False)
    (raw_dir / "customers.parquet").write_bytes(
        (warehouse.raw_dir / "customers.parquet").read_bytes()
    )
    return cutoff, build_warehouse(raw_dir, tmp_path_factory.mktemp("tampered_wh"))


def test_features_up_to_the_as_of_date_ignore_later_orders(warehouse, tampered):
    cutoff, tampered_warehouse = tampered
    before = _features(warehouse)
    after = _features(tampered_warehouse)
    same_grid = set(before["as_of_date"]) == set(after["as_of_date"])
    assert same_grid, "the tampering moved the as-of grid; the test would prove nothing"
    old = before[before["as_of_date"] <= cutoff].reset_index(drop=True)
    new = after[after["as_of_date"] <= cutoff].reset_index(drop=True)
    assert len(old) > 0
    pd.testing.assert_frame_equal(old, new)
    # the tampering did reach the later dates, so the comparison above had teeth
    later_old = before[before["as_of_date"] > cutoff].reset_index(drop=True)
    later_new = after[after["as_of_date"] > cutoff].reset_index(drop=True)
    assert not later_old["total_spend"].equals(later_new["total_spend"])


def test_labels_look_only_at_the_window_after_the_as_of_date(warehouse):
    labels = warehouse.query("select * from customer_labels")
    days = warehouse.query(
        "select customer_id, activity_date from int_customer_days where purchases > 0"
    )
    merged = labels.merge(days, on="customer_id")
    delta = (pd.to_datetime(merged["activity_date"]) - pd.to_datetime(merged["as_of_date"])).dt.days
    merged["in_window"] = (delta > 0) & (delta <= merged["label_window_days"])
    expected = merged.groupby(["customer_id", "as_of_date"])["in_window"].any().astype(int)
    actual = labels.set_index(["customer_id", "as_of_date"])["repeat_30d"].sort_index()
    pd.testing.assert_series_equal(
        actual, expected.reindex(actual.index).rename("repeat_30d"), check_dtype=False
    )
