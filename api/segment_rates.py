"""The segment_repeat_rates mart as GET /insights reads it: its Parquet file, never the warehouse.

dbt builds the mart (dbt_project/models/marts/segment_repeat_rates.sql) while it holds the
DuckDB warehouse file locked, and writes the Parquet beside the other marts through a
temporary file renamed into place, so reading the file always sees one whole build, even
during the next one. The file is small (a row per as-of date and segment) and is read again
only when its modification time or size changes.

Claims compare groups made of several segments ("3+ orders" = three bands), so the Wilson
interval is computed here too, for pooled counts, by the formula the mart uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import pyarrow.parquet as pq

from api.settings import Settings
from ingest.paths import pipeline_paths

MART_FILE = "segment_repeat_rates.parquet"
Z_95 = 1.959963984540054  # the normal quantile of 0.975: a 95 % two-sided interval
HOW_TO_BUILD = "run `make features` (dbt build) after `make sample`, or `make pipeline`"


class NoSegmentRates(RuntimeError):
    """There is no usable mart file; the message says what to run."""


def wilson_interval(repeaters: int, customers: int) -> tuple[float, float]:
    """The 95 % Wilson score interval of repeaters / customers, rounded as the mart rounds."""
    rate = repeaters / customers
    centre = (rate + Z_95**2 / (2 * customers)) / (1 + Z_95**2 / customers)
    half = (
        Z_95
        * math.sqrt(rate * (1 - rate) / customers + Z_95**2 / (4 * customers**2))
        / (1 + Z_95**2 / customers)
    )
    return round(max(centre - half, 0.0), 6), round(min(centre + half, 1.0), 6)


@dataclass(frozen=True)
class SegmentRate:
    """One row of the mart."""

    as_of_date: date
    dimension: str
    segment: str
    segment_order: int
    customers: int
    repeaters: int
    repeat_rate: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class SegmentRates:
    """Every row of one build of the mart, by as-of date (dates newest first)."""

    by_date: dict[date, tuple[SegmentRate, ...]]

    @property
    def dates(self) -> list[date]:
        return sorted(self.by_date, reverse=True)

    def on(self, as_of: date) -> tuple[SegmentRate, ...]:
        return self.by_date[as_of]


def mart_path(settings: Settings) -> Path:
    return settings.segment_rates_path or pipeline_paths().features_dir / MART_FILE


def load_segment_rates(path: Path) -> SegmentRates:
    """The mart at ``path``; NoSegmentRates (with what to run) when it is missing, unreadable
    or holds no as-of date."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise NoSegmentRates(f"no segment repeat rates yet ({MART_FILE}): {HOW_TO_BUILD}") from None
    except OSError as exc:
        raise NoSegmentRates(
            f"{MART_FILE} cannot be read ({exc.strerror}): {HOW_TO_BUILD}"
        ) from None
    rates = _read(path, stat.st_mtime_ns, stat.st_size)
    if not rates.by_date:
        raise NoSegmentRates(
            f"{MART_FILE} holds no as-of date whose 30-day window has closed: the history is "
            "too short; load a longer log and run `make features` again"
        )
    return rates


@lru_cache(maxsize=4)
def _read(path: Path, mtime_ns: int, size: int) -> SegmentRates:
    """One read per version of the file (the stat is part of the cache key)."""
    try:
        rows = pq.read_table(path).to_pylist()
        parsed = [SegmentRate(**row) for row in rows]
    except Exception as exc:  # a damaged file or another table: an operator's problem
        raise NoSegmentRates(
            f"{MART_FILE} is not a readable segment_repeat_rates mart "
            f"({type(exc).__name__}): {HOW_TO_BUILD}"
        ) from None
    by_date: dict[date, list[SegmentRate]] = {}
    for row in parsed:
        by_date.setdefault(row.as_of_date, []).append(row)
    return SegmentRates(
        {
            day: tuple(sorted(rows, key=lambda r: (r.dimension, r.segment_order)))
            for day, rows in by_date.items()
        }
    )
