"""Hostile inputs: the importer must not change a user's numbers, ids or dates, and must say
exactly where a file it cannot read is broken (one line, exit status 2, no traceback)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest import contract
from ingest.errors import LoadError
from ingest.load import load
from ingest.paths import REPO_ROOT


def _landed(out: Path) -> list[dict]:
    return pq.read_table(out / contract.TRANSACTIONS_FILE).to_pylist()


def _aside(out: Path) -> list[dict]:
    return pq.read_table(out / contract.SET_ASIDE_DIR / contract.SET_ASIDE_FILE).to_pylist()


def _cli(*args: str, tz: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if tz:
        env["TZ"] = tz
    return subprocess.run(
        [sys.executable, "-m", "ingest.load", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- item 1: --decimal , never scales a value it has to guess at ---------------------------


def test_decimal_comma_accepts_only_unambiguous_forms_and_sets_the_rest_aside(tmp_path):
    source = tmp_path / "de.csv"
    source.write_text(
        "customer_id;order_date;amount\n"
        "A;2024-01-05;12,5\n"
        "B;2024-01-05;1.234,50\n"
        "C;2024-01-05;-3,00\n"
        "D;2024-01-05;7\n"
        "E;2024-01-05;12.5\n"
        "F;2024-01-05;1,234.50\n"
        "G;2024-01-05;1.234\n"
        "H;2024-01-05;12.34,5\n"
        "I;2024-01-05;abc\n"
    )
    summary = load(source, tmp_path / "raw", decimal=",")
    landed = {r["customer_id"]: r["amount"] for r in _landed(tmp_path / "raw")}
    assert landed == {"A": "12.5", "B": "1234.50", "C": "-3.00", "D": "7", "I": "abc"}
    aside = _aside(tmp_path / "raw")
    assert [(r["customer_id"], r["amount"]) for r in aside] == [
        ("E", "12.5"),
        ("F", "1,234.50"),
        ("G", "1.234"),
        ("H", "12.34,5"),
    ]
    assert {r["set_aside_reason"] for r in aside} == {"ambiguous_amount"}
    assert summary.set_aside == {"ambiguous_amount": 4}
    report = summary.report()
    assert "ambiguous_amount: 4" in report and "check: 9 read = 5 kept + 4 set aside" in report


def test_decimal_point_drops_thousands_commas_and_sets_a_lone_comma_aside(tmp_path):
    """The mirror of --decimal ,: a US export's '1,234.50' is 1234.50, not a rejected row (the
    large orders would go missing); '1,5' or '1,234' could be either, so neither is guessed."""
    source = tmp_path / "us.csv"
    source.write_text(
        "customer_id,order_date,amount\n"
        'A,2024-01-05,"1,234.50"\n'
        'B,2024-01-05,"-2,500.00"\n'
        'C,2024-01-05,"12,345,678"\n'
        "D,2024-01-05,12.5\n"
        'E,2024-01-05,"1,5"\n'
        'F,2024-01-05,"1,234"\n'
        'G,2024-01-05,"1,2,3"\n'
        'H,2024-01-05,"12,34.5"\n'
    )
    summary = load(source, tmp_path / "raw")
    landed = {r["customer_id"]: r["amount"] for r in _landed(tmp_path / "raw")}
    # G and H are no number in any locale: kept as written, for staging to reject
    assert landed == {
        "A": "1234.50", "B": "-2500.00", "C": "12345678", "D": "12.5", "G": "1,2,3",
        "H": "12,34.5",
    }  # fmt: skip
    aside = _aside(tmp_path / "raw")
    assert [(r["customer_id"], r["amount"]) for r in aside] == [("E", "1,5"), ("F", "1,234")]
    assert summary.set_aside == {"ambiguous_amount": 2}
    report = summary.report()
    assert "--decimal ," in report, "the report names the option that reads them"


def test_amounts_that_are_not_numbers_are_told_at_load(tmp_path):
    """Currency signs and units are not stripped (a file may mix currencies), but the user
    hears at load, not only after dbt build, that those rows will be rejected."""
    source = tmp_path / "money.csv"
    source.write_text(
        "customer_id,order_date,amount\n"
        "A,2024-01-05,€12.50\n"
        "B,2024-01-05,12.5 EUR\n"
        "C,2024-01-05,€12.50\n"
        "D,2024-01-05,7\n"
        "E,2024-01-05,\n"
    )
    summary = load(source, tmp_path / "raw")
    assert [r["amount"] for r in _landed(tmp_path / "raw")] == [
        "€12.50", "12.5 EUR", "€12.50", "7", None,
    ]  # fmt: skip
    assert summary.amounts_not_numbers == 3, "the empty amount is missing, not unparseable"
    report = summary.report()
    assert "3 amount values are not numbers (e.g. '€12.50', '12.5 EUR')" in report
    assert "unparseable_amount" in report


def test_binary_parquet_text_is_read_as_the_text_it_holds(tmp_path):
    """Some writers store strings as BINARY without the UTF8 annotation: 'José' must land as
    José, not as the escaped bytes 'Jos\\xC3\\xA9' (a customer nobody has)."""
    source = tmp_path / "binary.parquet"
    ids = ["José", "C100", "日本123"]
    pq.write_table(
        pa.table(
            {
                "customer_id": pa.array([i.encode() for i in ids], pa.binary()),
                "order_date": pa.array([b"2024-01-05"] * 3, pa.binary()),
                "amount": pa.array([b"12.50", None, b"-3"], pa.binary()),
            }
        ),
        source,
    )
    load(source, tmp_path / "raw")
    landed = _landed(tmp_path / "raw")
    assert [r["customer_id"] for r in landed] == ids
    assert [r["amount"] for r in landed] == ["12.50", None, "-3"]


def test_binary_parquet_bytes_that_are_not_text_stop_the_import(tmp_path):
    source = tmp_path / "bytes.parquet"
    pq.write_table(
        pa.table(
            {
                "customer_id": pa.array([b"ok", b"\xff\xfe", b"\xc3"], pa.binary()),
                "order_date": ["2024-01-05"] * 3,
                "amount": ["1", "2", "3"],
            }
        ),
        source,
    )
    result = _cli(str(source), "--out", str(tmp_path / "raw"))
    assert result.returncode == 2, result.stderr
    assert "'customer_id' holds bytes that are not UTF-8 text in 2 rows" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "raw" / contract.TRANSACTIONS_FILE).exists()


def test_decimal_comma_never_reparses_typed_parquet_numbers(tmp_path):
    source = tmp_path / "typed.parquet"
    pq.write_table(
        pa.table(
            {
                "customer_id": ["A", "B"],
                "order_date": ["2024-01-05", "2024-01-06"],
                "amount": [1234.5, 12.0],
            }
        ),
        source,
    )
    summary = load(source, tmp_path / "raw", decimal=",")
    assert [r["amount"] for r in _landed(tmp_path / "raw")] == ["1234.5", "12"]
    assert summary.set_aside == {}


def test_online_retail_with_decimal_comma_sets_ambiguous_prices_aside(tmp_path):
    source = tmp_path / "uci.csv"
    source.write_text(
        "InvoiceNo;Quantity;InvoiceDate;UnitPrice;CustomerID;Country\n"
        "1;2;2010-12-01 08:26:00;2,55;17850;UK\n"
        "2;1;2010-12-01 08:27:00;1.25;17850;UK\n"
    )
    summary = load(source, tmp_path / "raw", preset="online-retail", decimal=",")
    assert [(r["order_id"], r["amount"]) for r in _landed(tmp_path / "raw")] == [("1", "5.10")]
    assert summary.set_aside == {"ambiguous_amount": 1}


# --- item 2: Parquet ids keep their identity, missing stays missing, one stated zone -------


def test_parquet_numbers_keep_their_identity_and_nan_stays_missing(tmp_path):
    source = tmp_path / "typed.parquet"
    pq.write_table(
        pa.table(
            {
                "customer_id": [17850.0, 1.0, 12.5, math.nan, None],
                "order_date": ["2024-01-05"] * 5,
                "amount": pa.array(
                    [Decimal("12.3400"), Decimal("0.1000"), None, Decimal("-1"), Decimal("2")],
                    pa.decimal128(18, 4),
                ),
                "order_id": pa.array([1, 2, 3, 4, 5], pa.int64()),
                "location": pa.array([0.1, 2.5, 3.0, 16_777_216.0, None], pa.float32()),
            }
        ),
        source,
    )
    load(source, tmp_path / "raw")
    rows = _landed(tmp_path / "raw")
    assert [r["customer_id"] for r in rows] == ["17850", "1", "12.5", None, None]
    assert [r["amount"] for r in rows] == ["12.3400", "0.1000", None, "-1.0000", "2.0000"]
    assert [r["order_id"] for r in rows] == ["1", "2", "3", "4", "5"]
    # FLOAT is read as FLOAT: 0.1 stays 0.1, not 0.10000000149011612
    assert [r["location"] for r in rows] == ["0.1", "2.5", "3", "16777216", None]


def _zoned_parquet(path: Path) -> None:
    stamps = pa.array([1_700_000_000, 1_704_067_199], pa.timestamp("s", tz="UTC"))
    pq.write_table(
        pa.table({"customer_id": ["A", "B"], "order_date": stamps, "amount": ["1", "2"]}),
        path,
    )


@pytest.mark.parametrize("machine_tz", ["America/New_York", "Asia/Kolkata"])
def test_zoned_timestamps_land_in_one_stated_zone_whatever_the_machine_zone(tmp_path, machine_tz):
    source = tmp_path / "zoned.parquet"
    _zoned_parquet(source)
    for zone, expected in [
        (None, ["2023-11-14 22:13:20", "2023-12-31 23:59:59"]),
        ("Asia/Kolkata", ["2023-11-15 03:43:20", "2024-01-01 05:29:59"]),
    ]:
        out = tmp_path / f"raw-{zone}"
        args = [str(source), "--out", str(out)] + (["--timezone", zone] if zone else [])
        result = _cli(*args, tz=machine_tz)
        assert result.returncode == 0, result.stderr
        assert [r["order_date"] for r in _landed(out)] == expected


def test_text_timestamps_with_an_offset_are_converted_naive_ones_kept(tmp_path):
    source = tmp_path / "offsets.csv"
    source.write_text(
        "customer_id,order_date,amount\n"
        "A,2024-01-05 23:30:00+05:30,1\n"
        "B,2024-01-05T10:00:00Z,1\n"
        "C,2024-01-05 10:00:00,1\n"
        "D,2024-01-05,1\n"
    )
    load(source, tmp_path / "raw")
    assert [r["order_date"] for r in _landed(tmp_path / "raw")] == [
        "2024-01-05 18:00:00",
        "2024-01-05 10:00:00",
        "2024-01-05 10:00:00",
        "2024-01-05",
    ]
    with pytest.raises(LoadError, match="unknown --timezone 'Mars/Olympus'"):
        load(source, tmp_path / "raw2", timezone="Mars/Olympus")


# --- item 3: encodings, ragged lines, one-line errors --------------------------------------


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_latin1_file_is_named_by_line_and_column_and_reads_with_encoding(tmp_path):
    source = tmp_path / "latin.csv"
    source.write_bytes(
        b"customer_id,order_date,amount,location\n"
        b"K1,2024-01-05,1.00,Paris\n"
        b"Jos\xe9,2024-01-06,2.00,M\xfcnchen\n"
    )
    message = _one_line_error(_cli(str(source), "--out", str(tmp_path / "raw")))
    assert message.startswith(f"ingest.load: error: {source}:3:4: byte 0xe9 is not valid utf-8")
    assert not (tmp_path / "raw" / contract.TRANSACTIONS_FILE).exists()

    result = _cli(str(source), "--out", str(tmp_path / "raw"), "--encoding", "latin-1")
    assert result.returncode == 0, result.stderr
    rows = _landed(tmp_path / "raw")
    assert [(r["customer_id"], r["location"]) for r in rows] == [
        ("K1", "Paris"),
        ("José", "München"),
    ]


def test_cp1252_euro_sign_and_undefined_byte(tmp_path):
    source = tmp_path / "win.csv"
    source.write_bytes(b"customer_id,order_date,amount,category\nK1,2024-01-05,1.00,\x80 deals\n")
    load(source, tmp_path / "raw", encoding="cp1252")
    assert _landed(tmp_path / "raw")[0]["category"] == "€ deals"
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"customer_id,order_date,amount\nK1,2024-01-05,1\nK2,2024-01-0\x81,1\n")
    with pytest.raises(LoadError) as caught:
        load(broken, tmp_path / "raw2", encoding="cp1252")
    assert (caught.value.line, caught.value.column) == (3, 13)


@pytest.mark.parametrize(
    ("bad_line", "fields", "many"),
    [("K2,2024-01-06,2.00,extra", 4, "too many"), ("K2,2024-01-06", 2, "too few")],
)
def test_a_ragged_line_is_named_as_such(tmp_path, bad_line, fields, many):
    source = tmp_path / "ragged.csv"
    source.write_text(
        f"customer_id,order_date,amount\nK1,2024-01-05,1.00\n{bad_line}\nK3,2024-01-07,3.00\n"
    )
    message = _one_line_error(_cli(str(source), "--out", str(tmp_path / "raw")))
    assert f"{source}:3: ragged line: {fields} fields where the header has 3 ({many}" in message


def test_a_ragged_line_beyond_the_sniffer_sample_is_named_too(tmp_path):
    source = tmp_path / "long.csv"
    body = "".join(f"K{i},2024-01-05,{i}.00\n" for i in range(25_000))
    source.write_text("customer_id,order_date,amount\n" + body + "K,2024-01-06,1;2,3\n")
    with pytest.raises(LoadError, match="ragged line: 4 fields") as caught:
        load(source, tmp_path / "raw")
    assert caught.value.line == 25_002


def test_unreadable_files_are_one_line_errors(tmp_path):
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1 this is not parquet")
    assert f"{corrupt}: not a readable Parquet file" in _one_line_error(
        _cli(str(corrupt), "--out", str(tmp_path / "raw"))
    )
    missing = tmp_path / "missing.csv"
    assert f"{missing}: no such file" in _one_line_error(_cli(str(missing)))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "the file is empty" in _one_line_error(_cli(str(empty), "--out", str(tmp_path)))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("Cust,order_date,amount\nK9,2024-03-01,1\n")
    assert "required column(s) customer_id not found" in _one_line_error(
        _cli(str(wrong), "--out", str(tmp_path / "raw"))
    )


# --- item 5: an invoice naming several customers is nobody's order --------------------------


def test_online_retail_invoice_with_several_customers_is_set_aside(tmp_path):
    source = tmp_path / "uci.csv"
    source.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,A,HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n"
        "536365,B,LANTERN,6,2010-12-01 08:26:00,3.39,13047.0,United Kingdom\n"
        "536365,C,MUG,1,2010-12-01 08:26:00,1.00,,United Kingdom\n"
        "536366,A,WARMER,3,2010-12-01 08:28:00,1.10,13047,France\n"
        "536366,B,WARMER,1,2010-12-01 08:28:00,1.10,13047.0,France\n"
    )
    summary = load(source, tmp_path / "raw", preset="online-retail")
    assert [(r["order_id"], r["customer_id"], r["amount"]) for r in _landed(tmp_path / "raw")] == [
        ("536366", "13047", "4.40")
    ]
    assert summary.set_aside == {"invoice_with_several_customers": 2, "missing_customer_id": 1}
    aside = _aside(tmp_path / "raw")
    assert [(r["StockCode"], r["set_aside_reason"]) for r in aside] == [
        ("A", "invoice_with_several_customers"),
        ("B", "invoice_with_several_customers"),
        ("C", "missing_customer_id"),
    ]
    report = summary.report()
    assert "invoice_with_several_customers: 2" in report
    assert "check: 5 read = 2 kept + 3 set aside" in report


def test_the_manifest_records_the_source(tmp_path):
    source = tmp_path / "orders.csv"
    source.write_text("customer_id,order_date,amount\nK1,2024-01-05,1.00\n")
    load(source, tmp_path / "raw")
    metadata = pq.read_schema(tmp_path / "raw" / contract.TRANSACTIONS_FILE).metadata
    recorded = json.loads(metadata[b"ingest.load"])["sources"]
    assert [(s["file"], s["rows_read"], len(s["sha256"])) for s in recorded] == [
        ("orders.csv", 1, 64)
    ]


def test_a_padded_date_is_a_date_not_a_note(tmp_path):
    """Staging trims dates, so the importer must too: ' 2024-01-05 ' is not 'left as text'."""
    source = tmp_path / "padded.csv"
    source.write_text(
        "customer_id,order_date,amount\nA, 2024-01-05 ,1\nB,\t2024-01-05 10:30:00 ,2\n"
        "C,05.01.2024,3\n"
    )
    summary = load(source, tmp_path / "raw")
    dates = [r["order_date"] for r in _landed(tmp_path / "raw")]
    assert dates == ["2024-01-05", "2024-01-05 10:30:00", "05.01.2024"]
    assert summary.dates_left_as_text == 1
