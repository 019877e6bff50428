"""The loader maps any log into the raw contract and accounts for every input row."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest import contract
from ingest import load as load_module
from ingest.errors import LoadError
from ingest.generate import generate
from ingest.load import load

ONLINE_RETAIL = Path("/work/shared/data/online_retail.csv.gz")


def _rows(path: Path) -> list[dict]:
    table = pq.read_table(path)
    assert table.schema == contract.TRANSACTIONS_SCHEMA
    return table.to_pylist()


def test_contract_named_csv_needs_no_flags(tmp_path, capsys):
    source = tmp_path / "orders.csv"
    source.write_text(
        "customer_id,order_date,amount,category\n"
        "C1,2024-01-05,100.50,groceries\n"
        "C2,2024-01-06 10:11:12,-20.00,  Fashion\n"
        "C3,not a date,abc,\n"
    )
    load_module.main([str(source), "--out", str(tmp_path / "raw")])
    rows = _rows(tmp_path / "raw" / contract.TRANSACTIONS_FILE)
    assert rows == [
        {
            "customer_id": "C1",
            "order_id": None,
            "order_date": "2024-01-05",  # a date stays a date: no invented time of day
            "amount": "100.50",
            "category": "groceries",
            "payment_method": None,
            "location": None,
        },
        {
            "customer_id": "C2",
            "order_id": None,
            "order_date": "2024-01-06 10:11:12",
            "amount": "-20.00",
            "category": "  Fashion",
            "payment_method": None,
            "location": None,
        },
        {
            "customer_id": "C3",
            "order_id": None,
            "order_date": "not a date",
            "amount": "abc",
            "category": None,
            "payment_method": None,
            "location": None,
        },
    ]
    printed = capsys.readouterr().out
    assert "read 3 rows" in printed and "check: 3 read = 3 kept + 0 set aside" in printed
    assert "order_id, payment_method, location" in printed
    assert "1 order_date values are neither ISO" in printed


def test_column_mapping_and_gzip(tmp_path):
    source = tmp_path / "export.csv.gz"
    with gzip.open(source, "wt") as f:
        f.write("Cust,When,Total,Mode,Extra\nK9,2024-03-01 09:00:00,10.00,upi,x\n")
    summary = load(
        source,
        tmp_path / "raw",
        mapping={
            "customer_id": "Cust",
            "order_date": "When",
            "amount": "Total",
            "payment_method": "mode",
        },
    )
    assert _rows(tmp_path / "raw" / contract.TRANSACTIONS_FILE) == [
        {
            "customer_id": "K9",
            "order_id": None,
            "order_date": "2024-03-01 09:00:00",
            "amount": "10.00",
            "category": None,
            "payment_method": "upi",
            "location": None,
        }
    ]
    assert summary.ignored_columns == ["Extra"]


def test_missing_required_column_is_explained(tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text("Cust,order_date,amount\nK9,2024-03-01,1\n")
    with pytest.raises(LoadError, match=r"customer_id.*--map customer_id=SOURCE_COLUMN"):
        load(source, tmp_path / "raw")
    with pytest.raises(LoadError, match="'Nope'"):
        load(source, tmp_path / "raw", mapping={"customer_id": "Nope"})


def test_decimal_comma_and_date_format(tmp_path):
    source = tmp_path / "de.csv"
    source.write_text(
        "customer_id;order_date;amount\nA;05/01/2024;1.234,50\nB;2024-01-07;-7,25\nC;31/02/2024;3\n"
    )
    summary = load(source, tmp_path / "raw", date_format="%d/%m/%Y", decimal=",")
    rows = _rows(tmp_path / "raw" / contract.TRANSACTIONS_FILE)
    assert [(r["order_date"], r["amount"]) for r in rows] == [
        ("2024-01-05", "1234.50"),
        ("2024-01-07", "-7.25"),
        ("31/02/2024", "3"),
    ]
    assert summary.dates_left_as_text == 1


def test_parquet_with_typed_columns(tmp_path):
    source = tmp_path / "typed.parquet"
    pq.write_table(
        pa.table(
            {
                "customer_id": ["X"],
                "order_date": pa.array([1_700_000_000], pa.timestamp("s")),
                "amount": [12.5],
            }
        ),
        source,
    )
    load(source, tmp_path / "raw")
    row = _rows(tmp_path / "raw" / contract.TRANSACTIONS_FILE)[0]
    # a naive timestamp is kept as written; a typed amount is its exact text, not rounded
    assert (row["order_date"], row["amount"]) == ("2023-11-14 22:13:20", "12.5")


def test_replacing_generated_data_moves_its_ground_truth_aside(tmp_path):
    generate(200, seed=1, out=tmp_path)
    source = tmp_path / "orders.csv"
    source.write_text("customer_id,order_date,amount\nC1,2024-01-05,1.00\n")
    summary = load(source, tmp_path, replace=True)
    assert not (tmp_path / contract.GROUND_TRUTH_FILE).exists()
    assert contract.GROUND_TRUTH_FILE in summary.moved_to_previous
    assert (tmp_path / ".previous" / contract.GROUND_TRUTH_FILE).exists()
    # the generator's customer profiles are replaced by an empty profile table
    customers = pq.read_table(tmp_path / contract.CUSTOMERS_FILE)
    assert customers.num_rows == 0 and customers.schema == contract.CUSTOMERS_SCHEMA


UCI_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def test_online_retail_preset_on_a_small_file(tmp_path):
    source = tmp_path / "uci.csv"
    source.write_text(
        UCI_HEADER
        + "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n"
        + "536365,71053,LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom\n"
        + "536366,22633,WARMER,3,2010-12-01 08:28:00,1.10,13047,France\n"
        + "536367,22633,WARMER,1,2010-12-01 09:00:00,1.10,,United Kingdom\n"
        + "536367,22634,MUG,2,2010-12-01 09:00:00,0.85,,United Kingdom\n"
        + "C536379,D,Discount,-1,2010-12-01 09:41:00,27.50,14527,United Kingdom\n"
    )
    summary = load(source, tmp_path / "raw", preset="online-retail")
    rows = _rows(tmp_path / "raw" / contract.TRANSACTIONS_FILE)
    assert rows == [
        {
            "customer_id": "17850",
            "order_id": "536365",
            "order_date": "2010-12-01 08:26:00",
            "amount": "35.64",
            "category": None,
            "payment_method": None,
            "location": "United Kingdom",
        },
        {
            "customer_id": "13047",
            "order_id": "536366",
            "order_date": "2010-12-01 08:28:00",
            "amount": "3.30",
            "category": None,
            "payment_method": None,
            "location": "France",
        },
        {
            "customer_id": "14527",
            "order_id": "C536379",
            "order_date": "2010-12-01 09:41:00",
            "amount": "-27.50",
            "category": None,
            "payment_method": None,
            "location": "United Kingdom",
        },
    ]
    assert (summary.rows_read, summary.rows_kept, summary.set_aside) == (
        6,
        4,
        {"missing_customer_id": 2},
    )
    aside = pq.read_table(tmp_path / "raw" / contract.SET_ASIDE_DIR / contract.SET_ASIDE_FILE)
    assert aside.column("InvoiceNo").to_pylist() == ["536367", "536367"]
    assert set(aside.column("set_aside_reason").to_pylist()) == {"missing_customer_id"}
    assert "check: 6 read = 4 kept + 2 set aside" in summary.report()


@pytest.mark.skipif(not ONLINE_RETAIL.exists(), reason="shared UCI file not present")
def test_online_retail_preset_on_the_real_file(tmp_path):
    started = time.perf_counter()
    summary = load(ONLINE_RETAIL, tmp_path, preset="online-retail")
    assert time.perf_counter() - started < 15
    assert summary.rows_read == 541_909
    assert summary.set_aside == {"missing_customer_id": 135_080}
    assert summary.rows_kept == 406_829
    rows = pq.read_table(tmp_path / contract.TRANSACTIONS_FILE)
    assert rows.num_rows == summary.rows_written == 22_190
    ids = rows.column("order_id").to_pylist()
    amounts = [float(a) for a in rows.column("amount").to_pylist()]
    returns = [a for i, a in zip(ids, amounts, strict=True) if i.startswith("C")]
    assert len(set(ids)) == len(ids)
    assert len(returns) == summary.returns == 3_654 and all(a < 0 for a in returns)
    customers = set(rows.column("customer_id").to_pylist())
    assert len(customers) == 4_372 and not any("." in c for c in customers)
