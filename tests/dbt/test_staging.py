"""Staging on a dirty sample: every raw row is used or rejected with a reason, none lost."""

from __future__ import annotations

import pandas as pd
import pytest

from ingest.customer_ids import rule
from tests.conftest import build_warehouse, generate_sample


@pytest.fixture(scope="module")
def dirty_warehouse(tmp_path_factory):
    raw = generate_sample(tmp_path_factory.mktemp("dirty_raw"), 400, seed=11, dirty_rate=0.05)
    return build_warehouse(raw, tmp_path_factory.mktemp("dirty_warehouse"))


def test_every_raw_row_is_clean_duplicate_or_rejected(dirty_warehouse):
    raw = len(pd.read_parquet(dirty_warehouse.raw_dir / "transactions.parquet"))
    counts = dirty_warehouse.query(
        """
        select
            (select count(*) from stg_transactions) as clean,
            (select count(*) from stg_transaction_duplicates) as duplicates,
            (select count(*) from stg_transaction_rejects) as rejected,
            (select count(distinct raw_row_id) from (
                select raw_row_id from stg_transactions
                union all select raw_row_id from stg_transaction_duplicates
                union all select raw_row_id from stg_transaction_rejects)) as distinct_ids
        """
    ).iloc[0]
    assert counts.clean + counts.duplicates + counts.rejected == raw
    assert counts.distinct_ids == raw, "a raw row landed in two places"
    assert counts.duplicates > 0 and counts.rejected > 0


def test_rejects_say_why(dirty_warehouse):
    reasons = set(
        dirty_warehouse.query("select distinct reject_reason from stg_transaction_rejects")[
            "reject_reason"
        ]
    )
    assert {"missing_customer_id", "unparseable_order_date", "unparseable_amount"} <= reasons
    assert None not in reasons


def test_staged_rows_are_normalised(dirty_warehouse):
    odd = dirty_warehouse.query(
        """
        select count(*) as n from stg_transactions
        where category != lower(trim(category))
           or amount = 0
        """
    ).iloc[0]["n"]
    assert odd == 0
    # customer ids: the one rule of ingest.customer_ids (trimmed, case kept, never a marker)
    ids = dirty_warehouse.query("select distinct customer_id from stg_transactions")["customer_id"]
    assert all(rule().normalize(c) == c for c in ids)
