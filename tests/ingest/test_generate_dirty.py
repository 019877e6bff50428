"""Dirty mode damages rows in every advertised way, and the returned counts are exact."""

from __future__ import annotations

from ingest import contract
from ingest.dirty import DAMAGE_KINDS
from ingest.generate import generate

ACCEPTED = ", ".join(f"'{c}'" for c in contract.CATEGORIES)


def test_every_damage_kind_is_present_and_counted_exactly(dirty_run, con):
    path = dirty_run.out / contract.TRANSACTIONS_FILE
    con.execute(f"create view t as select * from '{path}'")
    found = {
        "duplicate_row": "select count(*) - count(distinct (customer_id, order_id, order_date,"
        " amount, category, payment_method, location)) from t",
        "missing_customer_id": "select count(*) from t where nullif(customer_id, '') is null",
        "nonpositive_amount": "select count(*) from t where try_cast(amount as double) <= 0"
        f" and not order_id like '%{contract.REFUND_SUFFIX}'",
        "future_date": "select count(*) from t where try_cast(order_date as timestamp)"
        " >= timestamp '2026-01-01'",
        "unparseable_date": "select count(*) from t where try_cast(order_date as timestamp)"
        " is null",
        "non_numeric_amount": "select count(*) from t where try_cast(amount as double) is null",
        "unknown_category": f"select count(*) from t where lower(trim(category)) not in"
        f" ({ACCEPTED})",
        "messy_text": "select count(*) from t where customer_id <> upper(trim(customer_id))"
        " or category <> lower(trim(category))"
        " or payment_method <> lower(trim(payment_method))",
    }
    assert set(found) == set(DAMAGE_KINDS)
    counts = {kind: con.execute(sql).fetchone()[0] for kind, sql in found.items()}
    assert counts == dict(dirty_run.damage)
    assert all(n > 0 for n in counts.values())
    damaged = sum(counts.values())
    assert 0.04 * dirty_run.orders < damaged < 0.06 * dirty_run.orders


def test_dirty_mode_keeps_the_file_shape_and_the_clean_process(dirty_run, tmp_path):
    clean = generate(3_000, seed=12, out=tmp_path)
    assert clean.orders == dirty_run.orders and clean.refunds == dirty_run.refunds
    assert sum(clean.damage.values()) == 0
    assert dirty_run.transaction_rows == clean.transaction_rows + dirty_run.damage["duplicate_row"]
    truth = contract.GROUND_TRUTH_FILE
    assert (dirty_run.out / truth).read_bytes() == (tmp_path / truth).read_bytes()
