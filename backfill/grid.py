"""The backfill's as-of dates, in the CLI's terms (--start, --end, --every), and batches.

The grid itself is :mod:`ingest.as_of_grid`'s, the rule dbt's `int_as_of_dates` and the
generator follow too: ``end, end − every, end − 2·every, …`` down to and including the first
one ``>= start``. dbt's grid is therefore reproduced by::

    --end <latest purchase date> --every <snapshot_every_days>d
    --start <end − snapshot_count · snapshot_every_days>

(``--end latest`` resolves the latest purchase date from the data.) Dates before the first
purchase in the data are dropped, as dbt drops them: nobody is in the population yet.
Which dates get labels is :func:`ingest.as_of_grid.is_label_observed`.
"""

from __future__ import annotations

import re
from datetime import date

from ingest import as_of_grid
from ingest.as_of_grid import is_label_observed

__all__ = ["as_of_dates", "batches", "is_label_observed", "parse_every"]


def parse_every(text: str) -> int:
    """'7d' → 7, '2w' → 14, '30' → 30."""
    match = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", text.lower())
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"--every must be a positive number of days like 7d or 2w, not {text!r}")
    return int(match.group(1)) * (7 if match.group(2) == "w" else 1)


def as_of_dates(start: date, end: date, every_days: int, first: date | None = None) -> list[date]:
    """end, end − every, … >= start (and >= ``first``, the first purchase), newest first."""
    if start > end:
        raise ValueError(f"--start {start} is after --end {end}")
    count = (end - start).days // every_days
    return as_of_grid.as_of_dates(end, every_days=every_days, count=count, first=first)


def batches(dates: list[date], size: int) -> list[list[date]]:
    """Oldest first, ``size`` dates per batch (a batch is one Spark job per table)."""
    ordered = sorted(dates)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]
