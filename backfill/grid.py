"""The as-of dates a run computes, and which of them get labels.

As-of dates are ``end, end − every, end − 2·every, …`` down to and including the first one
``>= start`` — counted back from ``end``, exactly as dbt's `int_as_of_dates` counts back from the
latest purchase date. dbt's grid is therefore reproduced by::

    --end <latest purchase date> --every <snapshot_every_days>d
    --start <end − snapshot_count · snapshot_every_days>

(``--end latest`` resolves the latest purchase date from the data.) Dates before the first
purchase in the data are dropped, as dbt drops them: nobody is in the population yet.

A date gets labels only when its whole window (T, T + label_window] is observed, i.e.
T + label_window <= the latest purchase date in the data — dbt's `is_label_observed`.
"""

from __future__ import annotations

import re
from datetime import date, timedelta


def parse_every(text: str) -> int:
    """'7d' → 7, '2w' → 14, '30' → 30."""
    match = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", text.lower())
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"--every must be a positive number of days like 7d or 2w, not {text!r}")
    return int(match.group(1)) * (7 if match.group(2) == "w" else 1)


def as_of_dates(start: date, end: date, every_days: int) -> list[date]:
    """end, end − every, … >= start, newest first."""
    if start > end:
        raise ValueError(f"--start {start} is after --end {end}")
    count = (end - start).days // every_days
    return [end - timedelta(days=k * every_days) for k in range(count + 1)]


def is_label_observed(as_of: date, label_window_days: int, latest_purchase: date) -> bool:
    return as_of + timedelta(days=label_window_days) <= latest_purchase


def batches(dates: list[date], size: int) -> list[list[date]]:
    """Oldest first, ``size`` dates per batch (a batch is one Spark job per table)."""
    ordered = sorted(dates)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]
