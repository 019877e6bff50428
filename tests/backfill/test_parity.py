"""dbt and the Spark backfill on the same raw data: same rows, same values, same types.

Four datasets: a clean sample, the same sample with every kind of damage staging has a rule
for (tests/backfill/raw_builder.py), ingest.generate's dirty sample when available, and a
sample from 1999–2001, half before the years the holiday calendar covers. The
Spark as-of grid is derived from dbt's vars, not from dbt's output, so the grid definition is
under test too.
"""

from __future__ import annotations

import pandas as pd
import pytest

from backfill.spec import FEATURES_MODEL, LABELS_MODEL, contract
from ingest.holidays import load_calendar
from tests.backfill.compare import compare_marts, value_differences

CASES = ["clean_case", "dirty_case", "generated_case", "old_case"]


def _columns(model: str) -> list[tuple[str, str]]:
    return [(c.name, c.data_type) for c in contract(model)]


@pytest.mark.slow
@pytest.mark.parametrize("case_name", CASES)
@pytest.mark.parametrize("model", [FEATURES_MODEL, LABELS_MODEL])
def test_backfill_matches_dbt(request, case_name, model):
    case = request.getfixturevalue(case_name)
    problems = compare_marts(
        case.dbt_features / f"{model}.parquet", case.backfill / model, _columns(model)
    )
    assert not problems, f"{case_name} {model}:\n" + "\n".join(problems)


@pytest.mark.slow
def test_calendar_features_are_null_before_the_covered_years_and_known_after(old_case):
    """The old sample's parity is only worth something if it has both kinds of as-of date."""
    features = pd.read_parquet(old_case.dbt_features / f"{FEATURES_MODEL}.parquet")
    covered = pd.to_datetime(features["as_of_date"]).dt.year >= min(load_calendar().seasons)
    calendar = ["days_to_next_holiday", "is_festival_season"]
    assert covered.any() and (~covered).any()
    assert features.loc[~covered, calendar].isna().all().all()
    assert features.loc[covered, calendar].notna().all().all()
    assert features.loc[covered, "days_to_next_holiday"].max() < 366
    shares = features["holiday_order_share"]
    assert shares.isna().any() and shares.notna().any()


@pytest.mark.slow
def test_dirty_sample_exercises_every_reject_rule(dirty_case):
    """The dirty parity case is only worth something if every rule fired in it."""
    reasons = {
        "missing_customer_id",
        "invalid_customer_id",
        "missing_order_date",
        "implausible_order_date",
        "unparseable_order_date",
        "future_order_date",
        "missing_amount",
        "unparseable_amount",
        "zero_amount",
        "refund_without_purchase",
    }
    assert set(dirty_case.summary.rejects) == reasons
    assert dirty_case.summary.rows_duplicate > 0
    assert set(dirty_case.summary.duplicates) == {"same_order_line", "same_timestamp", "exact_row"}
    s = dirty_case.summary
    assert s.rows_in == s.rows_clean + s.rows_duplicate + s.rows_rejected


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["A", "B", "C"],
            "as_of_date": pd.to_datetime(["2024-01-01"] * 3).date,
            "orders_count": pd.array([1, 2, 3], dtype="Int64"),
            "total_spend": [10.0, 20.5, None],
            "favourite_category": ["books", None, "home"],
            "is_festival_season": [True, False, True],
        }
    )


@pytest.mark.parametrize(
    "change",
    [
        ("orders_count", 1, 3),  # an integer
        ("total_spend", 1, 20.5 * (1 + 1e-8)),  # a float beyond the tolerance
        ("total_spend", 2, 0.0),  # a null that became a value
        ("favourite_category", 1, "books"),  # a null string
        ("favourite_category", 0, "Books"),  # case
        ("is_festival_season", 0, False),  # a boolean
    ],
)
def test_comparison_catches_one_changed_value(change):
    """The parity check must fail when either side changes a single feature value."""
    column, row, value = change
    dbt, spark = _frame(), _frame()
    spark.loc[row, column] = value
    columns = list(dbt.columns)
    assert value_differences(dbt, spark, columns, {"total_spend"})
    assert value_differences(spark, dbt, columns, {"total_spend"})
    assert not value_differences(dbt, _frame(), columns, {"total_spend"})


def test_comparison_catches_a_missing_row_and_tolerates_rounding():
    dbt, spark = _frame(), _frame()
    assert value_differences(dbt, spark.iloc[:2], list(dbt.columns), {"total_spend"})
    spark.loc[1, "total_spend"] = 20.5 * (1 + 1e-12)
    assert not value_differences(dbt, spark, list(dbt.columns), {"total_spend"})
