"""Staging's stated policies on a hand-written raw log, through a real `dbt build`.

Each block of the log is one complaint from the issue: placeholder dates that became orders,
date-only repeat purchases dropped as duplicates, zero amounts rejected in silence, a build
that failed when the features folder did not exist, and no summary of what staging did.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import BIN, Warehouse, run

COLUMNS = ["customer_id", "order_id", "order_date", "amount", "category", "payment_method",
           "location"]  # fmt: skip


def _line(cid, order_id, when, amount, category="books"):
    return (cid, order_id, when, amount, category, "upi", "Pune")


# (raw line, what staging must make of it): kept, a duplicate rule, or a reject reason
LOG = [
    # ordinary purchases, so that the marts have something to build
    *[
        (_line(f"P{c}", f"O{c}{m}", f"2024-{m:02d}-1{c} 10:00:00", "100.00"), "kept")
        for c in range(1, 5)
        for m in range(1, 7)
    ],
    # placeholder dates: words are not dates, and nothing before min_order_date is an order
    (_line("P1", "X1", "0001-01-01", "10.00"), "implausible_order_date"),
    (_line("P1", "X2", "1900-01-01", "10.00"), "implausible_order_date"),
    (_line("P1", "X3", "1970-01-01 00:00:00", "10.00"), "implausible_order_date"),
    (_line("P1", "X4", "1979-12-31", "10.00"), "implausible_order_date"),
    (_line("P1", "X5", "infinity", "10.00"), "unparseable_order_date"),
    (_line("P1", "X6", "epoch", "10.00"), "unparseable_order_date"),
    (_line("P1", "X7", "-infinity", "10.00"), "unparseable_order_date"),
    (_line("P1", "X8", "1980-01-01", "10.00"), "kept"),
    (_line("P1", "X9", "1995-06-15 12:00:00", "10.00"), "kept"),
    # no order id, no time of day: only an exact copy of a line is a duplicate
    (_line("P2", None, "2024-03-01", "20.00"), "kept"),
    (_line("P2", None, "2024-03-01", "20.00"), "exact_row"),
    (_line("P2", None, "2024-03-01", "20.00"), "exact_row"),
    (_line("P2", None, "2024-03-01", "20.0"), "kept"),  # two items at one price, one day
    (_line("P2", None, "2024-03-01", "20.00", " Books"), "kept"),
    # no order id, a time of day: the same values at the same second are a duplicate
    (_line("P4", None, "2024-04-01 10:00:00", "30.00"), "kept"),
    (_line("P4\t", None, "2024-04-01 10:00:00", "30", "BOOKS"), "same_timestamp"),
    # an order line repeated
    (_line("P3", "O31", "2024-01-13 10:00:00", "100.0"), "same_order_line"),
    # zero amount: rejected by the default policy
    (_line("P3", "Z1", "2024-05-05 10:00:00", "0.00"), "zero_amount"),
    # null markers and an id no one could query
    (_line("NULL", "N1", "2024-05-05 10:00:00", "10.00"), "missing_customer_id"),
    (_line(" n/a ", "N2", "2024-05-05 10:00:00", "10.00"), "missing_customer_id"),
    (_line("K" * 10_000, "N3", "2024-05-05 10:00:00", "10.00"), "invalid_customer_id"),
]
DUPLICATE_RULES = {"same_order_line", "same_timestamp", "exact_row", "same_values"}


def _write_raw(raw: Path) -> None:
    raw.mkdir(parents=True)
    pd.DataFrame([line for line, _ in LOG], columns=COLUMNS, dtype="string").to_parquet(
        raw / "transactions.parquet", index=False
    )
    pd.DataFrame(
        {c: pd.Series([], dtype="string") for c in
         ["customer_id", "signup_date", "age", "gender", "location"]}
    ).to_parquet(raw / "customers.parquet", index=False)  # fmt: skip


def _outcomes(warehouse: Warehouse) -> list[str]:
    rows = warehouse.query(
        """select raw_row_id, case when reject_reason is not null then reject_reason
                                   when is_duplicate then duplicate_rule else 'kept' end as o
           from stg_transactions__typed order by raw_row_id"""
    )
    return list(rows["o"])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """`dbt build` of LOG with FEATURES_DIR pointing into folders that do not exist yet."""
    root = tmp_path_factory.mktemp("policies")
    _write_raw(root / "raw")
    features = root / "not" / "yet" / "features"
    warehouse = Warehouse(root / "raw", root / "w.duckdb", features, root / "target")
    return warehouse, warehouse.dbt("build")


def test_every_line_gets_the_stated_policy(built):
    warehouse, _ = built
    assert _outcomes(warehouse) == [outcome for _, outcome in LOG]


def test_build_creates_a_missing_features_folder(built):
    warehouse, _ = built
    assert (warehouse.features_dir / "customer_features.parquet").is_file()
    assert not list(warehouse.features_dir.glob("tmp_*")), "a temporary file was left behind"


def test_build_prints_one_summary_that_adds_up(built):
    _, output = built
    outcomes = pd.Series([o for _, o in LOG])
    kept = int((outcomes == "kept").sum())
    deduplicated = int(outcomes.isin(DUPLICATE_RULES).sum())
    rejected = len(LOG) - kept - deduplicated
    assert (
        f"Staging summary: {len(LOG)} raw rows read, {kept} kept, {deduplicated} deduplicated, "
        f"{rejected} rejected" in output
    )
    for outcome, n in outcomes[outcomes != "kept"].value_counts().items():
        kind = "deduplicated" if outcome in DUPLICATE_RULES else "rejected"
        assert re.search(rf"^\s+{kind} {outcome}: {n}$", output, re.MULTILINE), outcome
    assert (
        "policies: min_order_date=1980-01-01, zero_amount_policy=reject, "
        "duplicates_without_order_id_or_time=exact_row" in output
    )


def test_the_policies_are_vars(built, tmp_path):
    """Other values of the vars change the outcome of exactly the lines they govern."""
    warehouse, _ = built
    other = Warehouse(warehouse.raw_dir, tmp_path / "w.duckdb", tmp_path / "f", tmp_path / "t")
    policies = ("{min_order_date: '1900-01-01', zero_amount_policy: keep, "
                "duplicates_without_order_id_or_time: same_values}")  # fmt: skip
    output = other.dbt("build", "--select", "+staging", "--vars", policies)
    expected = [outcome for _, outcome in LOG]
    changed = {
        # 1900-01-01 and later are no longer before the bound; 0001-01-01 still is
        ("P1", "X2"): "kept",
        ("P1", "X3"): "kept",
        ("P1", "X4"): "kept",
        ("P3", "Z1"): "kept",  # a free purchase
    }
    date_only = [i for i, (line, _) in enumerate(LOG) if line[0] == "P2" and line[1] is None]
    for i, (line, _) in enumerate(LOG):
        expected[i] = changed.get((line[0], line[1]), expected[i])
        if i in date_only[1:]:  # the same values as the first date-only P2 line
            expected[i] = "same_values"
    assert _outcomes(other) == expected
    free = other.query("select is_purchase from stg_transactions where order_id = 'Z1'")
    assert free["is_purchase"].tolist() == [True]
    assert "zero_amount_policy=keep" in output and "=same_values" in output


def test_a_misspelt_policy_fails_the_build_with_the_allowed_values(built, tmp_path):
    warehouse, _ = built
    with pytest.raises(AssertionError, match="allowed: reject, keep"):
        run(
            [str(BIN / "dbt"), "compile", "--select", "stg_transactions__typed", "--vars",
             "{zero_amount_policy: drop}", "--target-path", str(tmp_path / "t"),
             "--log-path", str(tmp_path / "l")],
            env={**warehouse.env, "DUCKDB_PATH": str(tmp_path / "w.duckdb")},
        )  # fmt: skip
