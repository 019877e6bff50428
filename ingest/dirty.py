"""Damage a clean chunk of transactions the way real exports are damaged.

The raw file carries no marker of what was damaged — it should look like a messy export — but
:func:`damage` returns how many rows got each kind of damage, so tests can hold dbt staging's
reject counts against them. Only purchase rows are damaged; legitimate refunds stay intact so
"negative amount" stays a meaningful damage kind.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest.contract import ORDER_DATE_FORMAT

DAMAGE_KINDS: tuple[str, ...] = (
    "duplicate_row",  # an exact copy of the row follows it
    "missing_customer_id",  # null or blank customer_id
    "nonpositive_amount",  # 0.00 or a negative amount on a purchase (not a refund) id
    "future_date",  # order_date after the end of history
    "unparseable_date",  # '31/02/2024', 'not a date', ...
    "non_numeric_amount",  # '12,50x', 'abc', ...
    "unknown_category",  # a category outside the accepted list
    "messy_text",  # stray whitespace in ids; whitespace / wrong case in category, payment
)

UNPARSEABLE_DATES = ("31/02/2024", "not a date", "2024-13-45 25:61:00", "00/00/0000")
NON_NUMERIC_AMOUNTS = ("12,50x", "abc", "N/A", "1.2.3")
UNKNOWN_CATEGORIES = ("toys", "misc", "garden", "??")


def damage(
    table: pa.Table, candidates: np.ndarray, rate: float, rng: np.random.Generator, end_date: date
) -> tuple[pa.Table, Counter[str]]:
    """Damage about ``rate`` of the ``candidates`` rows, one damage kind per row."""
    counts: Counter[str] = Counter({kind: 0 for kind in DAMAGE_KINDS})
    n_damaged = rng.binomial(candidates.size, rate) if rate > 0 else 0
    if n_damaged == 0:
        return table, counts
    rows = np.sort(rng.choice(candidates, n_damaged, replace=False))
    kinds = np.array(DAMAGE_KINDS)[rng.integers(0, len(DAMAGE_KINDS), n_damaged)]
    counts.update(kinds.tolist())

    columns = {name: table.column(name).combine_chunks() for name in table.column_names}
    edits: dict[str, dict[int, str | None]] = {name: {} for name in columns}

    def values(name: str, kind: str) -> tuple[np.ndarray, list]:
        picked = rows[kinds == kind]
        return picked, columns[name].take(pa.array(picked)).to_pylist()

    picked, _ = values("customer_id", "missing_customer_id")
    for row in picked:
        edits["customer_id"][row] = None if rng.random() < 0.7 else ""

    picked, amounts = values("amount", "nonpositive_amount")
    for row, amount in zip(picked, amounts, strict=True):
        edits["amount"][row] = "0.00" if rng.random() < 0.5 else f"-{amount}"

    picked, stamps = values("order_date", "future_date")
    for row, stamp in zip(picked, stamps, strict=True):
        clock = datetime.strptime(stamp, ORDER_DATE_FORMAT).time()
        day = end_date + timedelta(days=int(rng.integers(1, 366)))
        edits["order_date"][row] = datetime.combine(day, clock).strftime(ORDER_DATE_FORMAT)

    for name, kind, choices in (
        ("order_date", "unparseable_date", UNPARSEABLE_DATES),
        ("amount", "non_numeric_amount", NON_NUMERIC_AMOUNTS),
        ("category", "unknown_category", UNKNOWN_CATEGORIES),
    ):
        picked, _ = values(name, kind)
        for row in picked:
            edits[name][row] = choices[int(rng.integers(0, len(choices)))]

    for name in ("customer_id", "category", "payment_method"):
        picked, texts = values(name, "messy_text")
        for row, text in zip(picked, texts, strict=True):
            edits[name][row] = _mess_up(text, rng, keep_case=name == "customer_id")

    for name, changes in edits.items():
        if changes:
            mask = np.zeros(table.num_rows, dtype=bool)
            where = np.array(sorted(changes))
            mask[where] = True
            replacements = pa.array([changes[i] for i in where], type=pa.string())
            columns[name] = pc.replace_with_mask(columns[name], pa.array(mask), replacements)
    table = pa.table(columns)

    duplicated = rows[kinds == "duplicate_row"]
    if duplicated.size:
        order = np.sort(np.concatenate([np.arange(table.num_rows), duplicated]), kind="stable")
        table = table.take(pa.array(order))
    return table, counts


def _mess_up(text: str, rng: np.random.Generator, keep_case: bool = False) -> str:
    """Stray whitespace and/or wrong case that staging undoes: it trims every text and
    lower-cases codes (category, payment method), but keeps an id's case (an id is the
    user's: ``k005`` and ``K005`` may be two customers), so ids only get whitespace."""
    variant = int(rng.integers(0, 2 if keep_case else 4))
    if variant == 0:
        return f" {text}"
    if variant == 1:
        return f"{text}  "
    if variant == 2:
        return text.upper() if text != text.upper() else text.lower()
    return f" {text.title() if text != text.title() else text.lower()} "
