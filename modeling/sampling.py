"""Which label rows go into the point-in-time join: a seeded sample, stratified by as-of date.

Joining every labelled row (9.9M at 1M customers) to the features and sampling afterwards
held the whole training set in memory (22 GB of 24) to fit on 400,000 rows. So the entity rows
(dbt's labels: customer × as-of date) are sampled first and only those are joined: at most
`max_train_rows` training rows and `max_eval_rows` rows each of validation and test.

Within a part every as-of date keeps its share of the rows (largest remainders, so the part
adds up to its cap exactly): a date never vanishes from the training rows or weighs more than
it did. A part under its cap keeps every row, so a small pipeline joins exactly what it joined
before sampling existed. One seeded generator draws the parts in order (train, validation,
test; dates ascending), so the same labels and seed give the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Part:
    """One part of the split (train, validation or test): its cap and its rows per date."""

    name: str
    cap: int  # 0 = no cap
    before: dict[date, int]
    after: dict[date, int]
    positions: np.ndarray = field(repr=False)  # rows of the label table kept, ascending

    @property
    def dates(self) -> list[date]:
        return sorted(self.before)

    def as_dict(self) -> dict:
        return {
            "cap": self.cap or None,
            "rows_before": sum(self.before.values()),
            "rows_after": sum(self.after.values()),
            "per_date": {
                str(d): {"before": self.before[d], "after": self.after[d]} for d in self.dates
            },
        }


@dataclass(frozen=True)
class Sampling:
    """What was sampled before the join, for the log, metadata.json and metrics.json."""

    seed: int
    parts: tuple[Part, ...]
    unused_rows: int  # labelled rows on dates no part uses (after a backtest's test date, ...)

    @property
    def positions(self) -> np.ndarray:
        """Every kept row of the label table, ascending (the parts' dates do not overlap)."""
        return np.sort(np.concatenate([part.positions for part in self.parts]))

    @property
    def rows(self) -> int:
        return sum(len(part.positions) for part in self.parts)

    @property
    def sampled(self) -> bool:
        return any(part.before != part.after for part in self.parts)

    def as_dict(self) -> dict:
        return {
            "seed": self.seed,
            "stratified_by": "as_of_date",
            "unused_rows": self.unused_rows,
            **{part.name: part.as_dict() for part in self.parts},
        }


def as_of_days(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Each row's as-of date as days since 1970-01-01 (date32, timestamps, or the ISO strings
    of a partitioned folder's as_of_date=… directories), without a Python object per row."""
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        column = pc.cast(pc.cast(column, pa.timestamp("s")), pa.date32())
    elif not pa.types.is_date32(column.type):
        column = pc.cast(column, pa.date32())
    return np.asarray(pc.cast(column, pa.int32()).to_numpy(zero_copy_only=False), dtype=np.int64)


def to_date(days: int) -> date:
    return EPOCH + timedelta(days=int(days))


def proportional(counts: np.ndarray, total: int) -> np.ndarray:
    """`total` rows shared out in proportion to `counts` (largest remainders, ties to the
    earlier date); never more than a date has."""
    counts = np.asarray(counts, dtype=np.int64)
    if total >= counts.sum():
        return counts.copy()
    exact = counts * total / counts.sum()
    share = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - share), kind="stable")
    share[order[: total - share.sum()]] += 1
    return share


def sample_parts(days: np.ndarray, parts: dict[str, tuple[list[date], int]], seed: int) -> Sampling:
    """The rows of each part (name → (its as-of dates, its cap; 0 = all)) to join.

    days: every label row's as-of date (`as_of_days`). Positions are rows of that table.
    """
    rng = np.random.default_rng(seed)
    order = np.argsort(days, kind="stable")
    sorted_days = days[order]
    out = []
    for name, (dates, cap) in parts.items():
        wanted = np.array(sorted((d - EPOCH).days for d in dates), dtype=np.int64)
        starts = np.searchsorted(sorted_days, wanted, side="left")
        ends = np.searchsorted(sorted_days, wanted, side="right")
        counts = ends - starts
        keep = proportional(counts, cap) if cap else counts
        chosen = []
        for start, end, n in zip(starts, ends, keep, strict=True):
            rows = order[start:end]  # ascending: a stable argsort keeps file order per date
            chosen.append(rows if n == len(rows) else np.sort(rng.choice(rows, n, replace=False)))
        positions = np.sort(np.concatenate(chosen)) if chosen else np.empty(0, dtype=np.int64)
        out.append(
            Part(
                name,
                cap,
                {to_date(d): int(c) for d, c in zip(wanted, counts, strict=True)},
                {to_date(d): int(k) for d, k in zip(wanted, keep, strict=True)},
                positions,
            )
        )
    used = sum(int(sum(part.before.values())) for part in out)
    return Sampling(seed, tuple(out), len(days) - used)
