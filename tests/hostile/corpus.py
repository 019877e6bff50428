"""A hostile transaction log, written as a user's CSV export, with what must become of each row.

    python -m tests.hostile.corpus OUT_DIR      # writes OUT_DIR/transactions.csv + expected.json

Every line carries its fate: kept for a customer (and which normalised id), removed as an
exact duplicate, or rejected with a reason code of dbt staging. The end-to-end test
(tests/hostile/test_corpus_end_to_end.py) pushes the file through the importer, dbt, Feast and
the API and checks that every row went where this file says, and that every customer staging
kept can be asked for by id over HTTP, while every id staging refused is refused by the API
with the same rule.

The ids are what real exports hold: spaces and tabs around ids, no-break spaces and byte-order
marks from spreadsheets, accents, CJK, emoji, punctuation that means something in a URL or a
CSV (``/ ? # % ; , ' "``), a formula a spreadsheet would run, and the placeholders tools write
for "no id". Dates and amounts are the classic placeholders and typos.
"""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path

MAX_ID = 128  # dbt_project.yml: customer_id_max_length


@dataclass(frozen=True)
class Row:
    customer_id: str
    order_date: str
    amount: str
    category: str = "groceries"
    # what must become of it: "kept", "duplicate" or a staging reject reason
    fate: str = "kept"
    # the id a kept row is stored under
    stored_id: str | None = None


# raw id as exported → the id staging stores (and the API must find)
GOOD_IDS: dict[str, str] = {
    "C100": "C100",
    "José": "José",
    "jose": "jose",  # case is kept: not the same customer as JOSE
    "JOSE": "JOSE",
    "a;b": "a;b",
    "O'Brien": "O'Brien",
    "comma,id": "comma,id",
    'quote"id': 'quote"id',
    "with inner  space": "with inner  space",
    "日本123": "日本123",
    "🦆duck": "🦆duck",
    '=HYPERLINK("http://x")': '=HYPERLINK("http://x")',
    "x/y": "x/y",
    "100%": "100%",
    "a?b#c": "a?b#c",
    "../etc": "../etc",
    "<script>": "<script>",
    "1.0": "1.0",
    "007": "007",
    "L" * MAX_ID: "L" * MAX_ID,
    "  padded  ": "padded",
    "\u00a0nbsp\u00a0": "nbsp",
    "\ufeffbom": "bom",
    "\u3000ideographic\u2003": "ideographic",
}

# the same customers written differently: must land on the id above, not a new customer
VARIANTS: dict[str, str] = {
    "C100\t": "C100",
    " José": "José",
    "padded": "padded",
    "\u200bnbsp": "nbsp",
}

MISSING_IDS = ["", "   ", "NULL", "null", "nan", "NaN", "N/A", " none ", "#N/A", "-", "\u00a0"]
INVALID_IDS = ["L" * (MAX_ID + 1), "x" * 10_000, "bell\x07id", "del\x7fid", "line\nbreak"]


def rows() -> list[Row]:
    out: list[Row] = []
    # three orders a customer in the first half of 2024, so each has a history and is online
    for raw, stored in GOOD_IDS.items():
        for month, amount in ((1, "120.50"), (3, "80.00"), (5, "42.10")):
            out.append(Row(raw, f"2024-{month:02d}-15", amount, stored_id=stored))
    for raw, stored in VARIANTS.items():
        out.append(Row(raw, "2024-04-02", "15.00", category="books", stored_id=stored))
    # two items at one price on one day, a date-only log without order ids: both are purchases
    out.append(Row("C100", "2024-02-10", "9.99", category="beauty", stored_id="C100"))
    out.append(Row("C100", "2024-02-10", "9.99", category="books", stored_id="C100"))
    # the very same line exported twice: one purchase, one duplicate
    out.append(Row("007", "2024-02-11", "19.99", category="home", stored_id="007"))
    out.append(Row("007", "2024-02-11", "19.99", category="home", fate="duplicate"))
    # a refund of an earlier purchase is kept (negative amount); one with no purchase is not
    out.append(Row("C100", "2024-05-20", "-42.10", stored_id="C100"))
    out.append(Row("REFUND-ONLY", "2024-05-20", "-10.00", fate="refund_without_purchase"))
    # a category nobody configured is kept as "other"; a formula in it is text, nothing more
    out.append(Row("a;b", "2024-06-01", "5.00", category="=cmd|' /C calc'!A0", stored_id="a;b"))

    for raw in MISSING_IDS:
        out.append(Row(raw, "2024-03-01", "10.00", fate="missing_customer_id"))
    for raw in INVALID_IDS:
        out.append(Row(raw, "2024-03-01", "10.00", fate="invalid_customer_id"))

    for date in ("0001-01-01", "1900-01-01", "1969-12-31"):
        out.append(Row("C100", date, "10.00", fate="implausible_order_date"))
    for date in ("infinity", "-infinity", "epoch", "not a date", "2024-13-01", "2024-02-30"):
        out.append(Row("C100", date, "10.00", fate="unparseable_order_date"))
    out.append(Row("C100", "", "10.00", fate="missing_order_date"))
    out.append(Row("C100", "2999-01-01", "10.00", fate="future_order_date"))

    for amount in ("12abc", "NaN", "Infinity", "1e400", "--5", "1,2,3"):
        out.append(Row("C100", "2024-03-03", amount, fate="unparseable_amount"))
    out.append(Row("C100", "2024-03-03", "", fate="missing_amount"))
    for amount in ("0", "0.00", "-0"):
        out.append(Row("C100", "2024-03-04", amount, fate="zero_amount"))
    return out


def write(out_dir: Path) -> tuple[Path, Path]:
    """The CSV (UTF-8, every field quoted as a spreadsheet would) and the expected fates."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = rows()
    csv_path = out_dir / "transactions.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(["customer_id", "order_date", "amount", "category"])
        for row in data:
            writer.writerow([row.customer_id, row.order_date, row.amount, row.category])
    expected_path = out_dir / "expected.json"
    expected_path.write_text(json.dumps([asdict(row) for row in data], ensure_ascii=False))
    return csv_path, expected_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder for transactions.csv and expected.json")
    args = parser.parse_args(argv)
    csv_path, expected_path = write(args.out_dir)
    print(f"wrote {len(rows())} rows to {csv_path} and their fates to {expected_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
