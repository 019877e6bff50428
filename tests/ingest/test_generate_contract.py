"""The generator writes exactly the raw landing contract, deterministically and atomically."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest import contract
from ingest import generate as generate_module
from ingest.as_of_grid import as_of_dates
from ingest.generate import generate, history_start


def _read(path):
    return pq.read_table(path)


def test_transactions_file_has_contract_columns_all_strings(clean_run):
    table = _read(clean_run.out / contract.TRANSACTIONS_FILE)
    assert table.schema == contract.TRANSACTIONS_SCHEMA
    assert table.column_names == list(contract.TRANSACTION_COLUMNS)
    assert table.num_rows == clean_run.transaction_rows == clean_run.orders + clean_run.refunds


def test_customers_and_ground_truth_schemas(clean_run):
    customers = _read(clean_run.out / contract.CUSTOMERS_FILE)
    assert customers.schema == contract.CUSTOMERS_SCHEMA
    assert customers.num_rows == clean_run.customers
    assert set(customers.column("gender").to_pylist()) <= set(contract.GENDERS)
    assert all(18 <= int(a) <= 80 for a in customers.column("age").to_pylist())
    assert all(
        re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in customers.column("signup_date").to_pylist()
    )
    truth = _read(clean_run.out / contract.GROUND_TRUTH_FILE)
    assert truth.schema == contract.GROUND_TRUTH_SCHEMA


def test_clean_values_follow_the_contract_formats(clean_run, con):
    path = clean_run.out / contract.TRANSACTIONS_FILE
    rows = con.execute(f"select * from '{path}'").fetchall()
    ids = pq.read_table(path).column("order_id").to_pylist()
    assert len(set(ids)) == len(ids), "order ids must be unique"
    for customer_id, order_id, _order_date, amount, category, payment, location in rows:
        assert re.fullmatch(contract.CUSTOMER_ID_PATTERN, customer_id)
        assert re.fullmatch(contract.ORDER_ID_PATTERN, order_id)
        assert re.fullmatch(r"-?\d+\.\d{2}", amount)
        assert (float(amount) < 0) == order_id.endswith(contract.REFUND_SUFFIX)
        assert category in contract.CATEGORIES and payment in contract.PAYMENT_METHODS
        assert location
    first, last = con.execute(
        f"select min(strptime(order_date, '{contract.ORDER_DATE_FORMAT}')),"
        f" max(strptime(order_date, '{contract.ORDER_DATE_FORMAT}'))"
        f" from '{path}'"
    ).fetchone()
    assert first.date() >= history_start(generate_module.DEFAULT_END_DATE, 3)
    assert last.date() <= generate_module.DEFAULT_END_DATE


def test_about_fifteen_orders_per_customer_spread_across_history(clean_run, con):
    assert 12 <= clean_run.orders / clean_run.customers <= 20
    path = clean_run.out / contract.TRANSACTIONS_FILE
    first_orders = con.execute(f"""
        select year(min(cast(order_date as timestamp))) as y, count(*) as n
        from '{path}' group by customer_id""").fetchall()
    per_year = {}
    for y, _ in first_orders:
        per_year[y] = per_year.get(y, 0) + 1
    assert sorted(per_year) == [2023, 2024, 2025]
    assert min(per_year.values()) > 0.25 * clean_run.customers


def test_refunds_follow_an_earlier_order_of_the_same_customer(clean_run, con):
    path = clean_run.out / contract.TRANSACTIONS_FILE
    refunds, orphans, early, too_big = con.execute(f"""
        with t as (select *, cast(order_date as timestamp) ts, cast(amount as decimal(18,2)) a
                   from '{path}')
        select count(*),
               count(*) filter (where o.order_id is null),
               count(*) filter (where r.ts <= o.ts),
               count(*) filter (where -r.a > o.a)
        from t r left join t o
          on o.order_id || '{contract.REFUND_SUFFIX}' = r.order_id
         and o.customer_id = r.customer_id
        where r.a < 0""").fetchone()
    assert 0.01 * clean_run.orders < refunds < 0.03 * clean_run.orders
    assert (orphans, early, too_big) == (0, 0, 0)


def test_ground_truth_covers_customers_with_an_order_by_each_as_of_date(clean_run, con):
    truth = clean_run.out / contract.GROUND_TRUTH_FILE
    path = clean_run.out / contract.TRANSACTIONS_FILE
    expected = as_of_dates(generate_module.DEFAULT_END_DATE)
    got = con.execute(f"select distinct as_of_date from '{truth}' order by 1").fetchall()
    assert [d for (d,) in got] == sorted(expected)
    mismatches = con.execute(f"""
        with firsts as (select customer_id, min(cast(order_date as timestamp))::date f
                        from '{path}' group by 1),
             expected as (select customer_id, d as as_of_date from firsts,
                          (select distinct as_of_date d from '{truth}') where f <= d)
        select count(*) from (
            (select customer_id, as_of_date from expected
             except select customer_id, as_of_date from '{truth}')
            union all
            (select customer_id, as_of_date from '{truth}'
             except select customer_id, as_of_date from expected))""").fetchone()[0]
    assert mismatches == 0
    low, high = con.execute(
        f"select min(p_repeat_30d), max(p_repeat_30d) from '{truth}'"
    ).fetchone()
    assert 0.0 <= low < 0.05 and 0.95 < high <= 1.0


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    runs = {name: tmp_path / name for name in ("a", "b", "c")}
    generate(1_500, seed=3, out=runs["a"])
    generate(1_500, seed=3, out=runs["b"])
    generate(1_500, seed=4, out=runs["c"])
    for name in (contract.TRANSACTIONS_FILE, contract.CUSTOMERS_FILE, contract.GROUND_TRUTH_FILE):
        assert (runs["a"] / name).read_bytes() == (runs["b"] / name).read_bytes()
        assert (runs["a"] / name).read_bytes() != (runs["c"] / name).read_bytes()


def test_chunks_depend_only_on_seed_and_position(tmp_path, monkeypatch):
    """Growing N must not change customers in the chunks that already existed."""
    monkeypatch.setattr(generate_module, "CHUNK_CUSTOMERS", 500)
    generate(1_000, seed=9, out=tmp_path / "small")
    generate(1_700, seed=9, out=tmp_path / "large")
    small = _read(tmp_path / "small" / contract.TRANSACTIONS_FILE)
    large = _read(tmp_path / "large" / contract.TRANSACTIONS_FILE)
    assert large.slice(0, small.num_rows).equals(small)
    ids = large.column("customer_id").to_pylist()
    assert ids[small.num_rows] == "C0001001"
    assert pq.ParquetFile(tmp_path / "large" / contract.TRANSACTIONS_FILE).num_row_groups == 4


def test_a_crash_leaves_the_previous_files_and_no_temp_files(tmp_path, monkeypatch):
    generate(600, seed=1, out=tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    monkeypatch.setattr(generate_module, "CHUNK_CUSTOMERS", 200)
    real = generate_module._generate_chunk
    calls = []

    def fail_on_third_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("simulated crash")
        return real(*args, **kwargs)

    monkeypatch.setattr(generate_module, "_generate_chunk", fail_on_third_chunk)
    with pytest.raises(RuntimeError, match="simulated crash"):
        generate(1_000, seed=2, out=tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_rerun_overwrites_and_cli_prints_a_summary(tmp_path, capsys):
    generate(900, seed=1, out=tmp_path)
    generate_module.main(
        [
            "--customers",
            "300",
            "--seed",
            "1",
            "--out",
            str(tmp_path),
            "--no-progress",
            "--as-of-count",
            "2",
        ]
    )
    printed = capsys.readouterr().out
    assert re.search(r"wrote [\d,]+ transaction rows .* for 300 customers", printed)
    assert _read(tmp_path / contract.CUSTOMERS_FILE).num_rows == 300
    truth = _read(tmp_path / contract.GROUND_TRUTH_FILE)
    assert len(set(truth.column("as_of_date").to_pylist())) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [contract.CUSTOMERS_FILE, contract.GROUND_TRUTH_FILE, contract.TRANSACTIONS_FILE]
    )


def test_end_date_and_years_move_the_history(tmp_path):
    generate(300, seed=1, out=tmp_path, end_date=date(2024, 6, 30), years=1)
    dates = pa.compute.strptime(
        _read(tmp_path / contract.TRANSACTIONS_FILE).column("order_date"),
        format=contract.ORDER_DATE_FORMAT,
        unit="s",
    )
    days = np.array(dates.to_pylist(), dtype="datetime64[D]")
    assert days.min() >= np.datetime64("2023-07-01")
    assert days.max() <= np.datetime64("2024-06-30")
