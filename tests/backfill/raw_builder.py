"""A small, deterministic raw landing folder for the backfill parity tests.

A few hundred customers over two years (2023–2024) in the raw contract (every column text).
``dirty=True`` adds, on top of the same clean rows, every kind of damage staging has a rule
for, plus the awkward-but-valid spellings each DuckDB parser accepts, the tie-breaks of the
favourite category / payment method and a customer file with gaps and repeats — each case
written out by hand below so a failing parity test points at a rule, not at a random seed.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.contract import CATEGORIES, CUSTOMER_COLUMNS, TRANSACTION_COLUMNS
from ingest.contract import PAYMENT_METHODS as PAYMENTS

CITIES = ("Mumbai", "Delhi", "Bengaluru", "Chennai", "Kolkata", "Pune")
HISTORY_START = date(2023, 1, 1)
HISTORY_DAYS = 730
# Ids that exports really carry, and hostile ones (tests/ingest/test_customer_ids.py has more)
HOSTILE_IDS = (
    "D0015\t", "\ufeffD0015", "\u00a0D0015\u2003", "d0015", "José", "Jose\u0301", "a;b",
    "q\"uo'te", "😀", "K 005", "東京-42", "NULL", " n/a ", "nan", "#N/A", "nİl", "\u212a",
    "x" * 129, "K" * 10_000, "a\x01b", "a\x85b", "\u3000\u200b",
)  # fmt: skip


def _stamp(day: date, seconds: int) -> str:
    return (datetime.combine(day, datetime.min.time()) + timedelta(seconds=seconds)).strftime(
        "%Y-%m-%d %H:%M:%S"
    )


def _clean_rows(
    customers: int, rng: random.Random, start: date = HISTORY_START
) -> tuple[list[dict], list[dict]]:
    transactions, profiles = [], []
    order_no = 0
    for c in range(1, customers + 1):
        cid = f"C{c:05d}"
        first_day = rng.randrange(HISTORY_DAYS - 30)
        rate = rng.choice((0.005, 0.02, 0.05, 0.12))  # orders per day
        city = rng.choice(CITIES)
        favourite = rng.choice(CATEGORIES)
        day = first_day
        while day < HISTORY_DAYS:
            order_no += 1
            when = start + timedelta(days=day)
            category = favourite if rng.random() < 0.5 else rng.choice(CATEGORIES)
            amount = round(rng.uniform(80, 5000), 2)
            row = {
                "customer_id": cid,
                "order_id": f"O{order_no:07d}",
                "order_date": _stamp(when, rng.randrange(86400)),
                "amount": f"{amount:.2f}",
                "category": category,
                "payment_method": rng.choice(PAYMENTS),
                "location": city if rng.random() < 0.9 else rng.choice(CITIES),
            }
            transactions.append(row)
            if rng.random() < 0.06:  # a refund, some days later
                refund_day = when + timedelta(days=rng.randrange(0, 20))
                transactions.append(
                    {
                        **row,
                        "order_id": f"{row['order_id']}-R",
                        "order_date": _stamp(refund_day, rng.randrange(86400)),
                        "amount": f"-{amount * rng.choice((1.0, 0.5)):.2f}",
                    }
                )
            day += max(1, int(rng.expovariate(rate)))
        profiles.append(
            {
                "customer_id": cid,
                "signup_date": (
                    start + timedelta(days=first_day - rng.randrange(0, 400))
                ).isoformat(),
                "age": str(rng.randrange(18, 75)),
                "gender": rng.choice(("female", "male", "other")),
                "location": city,
            }
        )
    rng.shuffle(transactions)  # raw files are not sorted
    return transactions, profiles


def _row(
    cid, order_id, order_date, amount, category="books", payment="upi", location="Pune"
) -> dict:
    return dict(
        zip(
            TRANSACTION_COLUMNS,
            (cid, order_id, order_date, amount, category, payment, location),
            strict=True,
        )
    )


def _dirty_transactions(clean: list[dict]) -> list[dict]:
    """Damage and edge cases, each on its own customer ids (D…) or on copies of clean rows."""
    rows = []
    # exact duplicates, and duplicates that only differ in whitespace and case
    rows += [dict(clean[i]) for i in range(0, 40, 4)]
    for i in range(1, 40, 4):
        r = dict(clean[i])
        r.update(
            customer_id=f"  {r['customer_id'].lower()} ",
            category=f" {r['category'].upper()}",
            payment_method=f"{r['payment_method']} ",
        )
        rows.append(r)
    # missing customer ids
    rows += [
        _row(None, "X1", "2024-01-05 10:00:00", "100.00"),
        _row("", "X2", "2024-01-05 10:00:00", "100.00"),
        _row("   ", "X3", "2024-01-05 10:00:00", "100.00"),
    ]
    # dates: missing, unparseable, future
    bad_dates = [
        None,
        "",
        "31/02/2024",
        "not a date",
        "2024-13-45 25:61:00",
        "00/00/0000",
        "2024-02-30",
        "2023-02-29 10:00:00",
        "2024-01-05T10:00:00",
        "2024-01-05 24:00:00",
        "2024-01-05 10:00",
        "2024-01-0510:00:00",
        "+2024-01-05",
        "2024-01-05 10:00:00.5",
        "2099-01-01 10:00:00",
        "2099-06-30",
    ]
    rows += [_row("D0001", f"BD{i}", d, "250.00") for i, d in enumerate(bad_dates)]
    # awkward but valid dates (DuckDB accepts all of these)
    good_dates = [
        "2024-3-5 9:5:1",
        "2024-03-06",
        " 2024-03-07 ",
        "2024-03-08\t",
        "\t2024-03-09 08:00:00",
        "2024-03-10  11:00:00",
        "2024-02-29 23:59:59",
        "2024-03-11\u00a0",
    ]
    rows += [
        _row("D0002", f"GD{i}", d, "99.00", category="home", payment="card")
        for i, d in enumerate(good_dates)
    ]
    # amounts: missing, non-numeric, zero, awkward-but-valid, rounding
    bad_amounts = [None, "", "12,50x", "abc", "N/A", "1.2.3", "1__000", "₹100", "1e20"]
    rows += [_row("D0003", f"BA{i}", "2024-04-01 12:00:00", a) for i, a in enumerate(bad_amounts)]
    rows += [
        _row("D0003", f"ZA{i}", "2024-04-02 12:00:00", a)
        for i, a in enumerate(("0", "0.00", "-0.001", " 0.004 "))
    ]
    odd_amounts = [
        "1_000.50",
        "1e3",
        " 12.345 ",
        "+5",
        ".5",
        "7.",
        "12.005",
        "\t42\n",
        "1.2e+1",
        "9999999999999999.99",
    ]
    rows += [
        _row("D0004", f"OA{i}", f"2024-04-{i + 3:02d} 09:00:00", a, category="beauty")
        for i, a in enumerate(odd_amounts)
    ]
    # refunds: after a purchase (kept), before any purchase / with no purchase (rejected),
    # at the very instant of the first purchase (kept: "earlier" is inclusive)
    rows += [
        _row("D0005", "RF1", "2024-05-01 10:00:00", "-50.00"),
        _row("D0005", "P1", "2024-05-02 10:00:00", "500.00"),
        _row("D0005", "RF2", "2024-05-03 10:00:00", "-100.00"),
        _row("D0006", "RF3", "2024-05-03 10:00:00", "-75.00"),
        _row("D0007", "P2", "2024-05-04 10:00:00", "300.00"),
        _row("D0007", "RF4", "2024-05-04 10:00:00", "-300.00"),
        _row("D0007", "RF5", "2024-05-04 11:00:00", "-20.00"),
    ]
    # categories: unknown → other, null, blank, messy case; payment methods likewise
    for i, (cat, pay) in enumerate(
        (
            ("toys", "UPI"),
            ("misc", None),
            ("??", " Card "),
            (None, "wallet"),
            ("", ""),
            ("  Fashion ", "COD"),
            ("BOOKS", "upi"),
            ("garden", "crypto"),
        )
    ):
        rows.append(
            _row(
                "D0008",
                f"CAT{i}",
                f"2024-06-{i + 1:02d} 10:00:00",
                "120.00",
                category=cat,
                payment=pay,
            )
        )
    # ties: two categories and two payment methods with one purchase each → alphabetical
    rows += [
        _row("D0009", "T1", "2024-07-01 10:00:00", "10.00", "home", "wallet"),
        _row("D0009", "T2", "2024-07-15 10:00:00", "20.00", "beauty", "card"),
        _row("D0009", "T3", "2024-09-01 10:00:00", "30.00", "home", "upi"),
        _row("D0009", "T4", "2024-09-02 10:00:00", "40.00", "beauty", "upi"),
    ]
    # several purchases on one day (one purchase day), and on the same second in two places
    rows += [
        _row("D0010", f"SD{i}", "2024-08-08 08:08:08", f"{10 + i}.00", location=loc)
        for i, loc in enumerate(("Delhi", "Agra", None))
    ]
    # location: first purchases without one, so the first *located* purchase comes later
    rows += [
        _row("D0011", "L1", "2023-03-01 10:00:00", "60.00", location=None),
        _row("D0011", "L2", "2024-10-01 10:00:00", "60.00", location="  Surat "),
        _row("D0011", "L3", "2024-11-01 10:00:00", "60.00", location="Goa"),
    ]
    # a customer whose id only ever appears messy, and one only in lower case
    rows += [
        _row(" d0012", "M1", "2024-02-02 02:02:02", "33.00"),
        _row("d0012 ", "M2", "2024-03-03 03:03:03", "44.00"),
    ]
    # a lone purchase on the very last day of history and one on the first
    rows += [
        _row("D0013", "E1", "2024-12-31 23:59:59", "77.00"),
        _row("D0014", "E2", "2023-01-01 00:00:00", "88.00"),
    ]
    # customer ids under the one rule (ingest.customer_ids): Unicode spaces and BOMs trimmed,
    # case and inner text kept, null markers missing, control characters or too long invalid
    rows += [
        _row(cid, f"HI{i}", f"2024-06-{10 + i % 10:02d} 10:00:00", f"{40 + i}.00")
        for i, cid in enumerate(HOSTILE_IDS)
    ]
    # placeholder dates (rejected: unparseable words, or before min_order_date) and a real
    # order from the 1990s (kept)
    placeholders = ["0001-01-01", "1900-01-01", "1970-01-01 00:00:00", "1979-12-31",
                    "infinity", "epoch", "-infinity", " Epoch ", "1995-06-15"]  # fmt: skip
    rows += [_row("D0016", f"PD{i}", d, "15.00") for i, d in enumerate(placeholders)]
    # lines with no order id and no time of day: an exact copy is a duplicate (exact_row), the
    # same purchase written differently is a second purchase
    rows += [_row("D0017", None, "2024-06-20", "25.00") for _ in range(3)]
    rows += [_row("D0017", None, "2024-06-20", "25.0"), _row(" D0017", None, "2024-06-20", "25.00")]
    # no order id but a time of day: the same normalised values are a duplicate
    rows += [
        _row("D0018", None, "2024-06-21 10:00:00", "30.00"),
        _row("D0018\t", None, "2024-06-21 10:00:00", "30", category=" BOOKS"),
    ]
    return rows


def _dirty_profiles(profiles: list[dict]) -> list[dict]:
    rows = []
    # repeats: the first record of an id wins (also when the repeat is spelt differently)
    rows += [
        {**profiles[0], "age": "99", "gender": "other"},
        {
            **profiles[1],
            "customer_id": f" {profiles[1]['customer_id'].lower()}",
            "location": "Nowhere",
        },
    ]
    awkward = [
        ("D0001", "2023/1/5", "42.5", "Female", " Delhi "),
        ("D0002", "2023-02-30", "abc", " MALE ", None),
        ("D0003", "", "", "", ""),
        ("D0004", None, None, None, None),
        ("D0005", "2023-01-05 10:00:00", " 37 ", "female", "Pune"),
        ("D0007", "2030-01-01", "1e2", "other", "Goa"),  # signup after every as-of date
        ("d0008 ", "2023 04 05", "1_0", "male", "Kochi"),
        ("D0009", "not a date", "-3", None, None),
        ("D0010", " 2023-7-9 ", "2147483648", "female", None),
        ("", "2023-01-01", "30", "male", "Ghost"),
        (None, "2023-01-01", "30", "male", "Ghost"),
    ]
    rows += [dict(zip(CUSTOMER_COLUMNS, r, strict=True)) for r in awkward]
    return rows


def build_raw(
    out: Path,
    *,
    customers: int = 300,
    seed: int = 7,
    dirty: bool = False,
    history_start: date = HISTORY_START,
) -> Path:
    """Write transactions.parquet and customers.parquet (all columns string) under ``out``.
    ``history_start`` moves the clean history (two years from it)."""
    rng = random.Random(seed)
    transactions, profiles = _clean_rows(customers, rng, history_start)
    # the profile file covers most, not all, customers
    profiles = [p for p in profiles if rng.random() < 0.9]
    if dirty:
        extra = _dirty_transactions(transactions)
        for row in extra:  # scatter the damage through the file
            transactions.insert(rng.randrange(len(transactions) + 1), row)
        for row in _dirty_profiles(profiles):
            profiles.insert(rng.randrange(len(profiles) + 1), row)
    out.mkdir(parents=True, exist_ok=True)
    for name, columns, rows in (
        ("transactions", TRANSACTION_COLUMNS, transactions),
        ("customers", CUSTOMER_COLUMNS, profiles),
    ):
        table = pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in columns})
        pq.write_table(table, out / f"{name}.parquet")
    return out
