"""The as-of grid: the dates features are computed for, and which of them get labels.

One rule for every engine: ``latest, latest − every, …, latest − count·every``, never before
the first purchase, with ``every`` and ``count`` the dbt vars ``snapshot_every_days`` and
``snapshot_count``. dbt's `int_as_of_dates` computes it in SQL from those vars and the latest
purchase date; the Spark backfill (:mod:`backfill.grid`) and the generator's ground truth
(:mod:`ingest.generate`) call :func:`as_of_dates` here. tests/dbt/test_as_of_grid.py checks
that this function and dbt's model give the same dates on the sample.

A date gets labels only when its whole window (T, T + label_window_days] is observed:
T + label_window_days <= the latest purchase date (dbt's `is_label_observed`).
"""

from __future__ import annotations

from datetime import date, timedelta

from ingest.dbt_vars import label_window_days, snapshot_count, snapshot_every_days


def as_of_dates(
    latest: date,
    *,
    every_days: int | None = None,
    count: int | None = None,
    first: date | None = None,
) -> list[date]:
    """``latest − k·every_days`` for k = 0..count, newest first, none before ``first``.
    ``every_days`` and ``count`` default to the dbt vars."""
    every_days = snapshot_every_days() if every_days is None else every_days
    count = snapshot_count() if count is None else count
    if every_days <= 0 or count < 0:
        raise ValueError(f"every_days must be > 0 and count >= 0, not {every_days}, {count}")
    dates = [latest - timedelta(days=k * every_days) for k in range(count + 1)]
    return [d for d in dates if first is None or d >= first]


def is_label_observed(as_of: date, latest_purchase: date, window_days: int | None = None) -> bool:
    """Whether the label window after ``as_of`` lies wholly inside the data."""
    window = label_window_days() if window_days is None else window_days
    return as_of + timedelta(days=window) <= latest_purchase
