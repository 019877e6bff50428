"""The Indian retail calendar, read from the dbt seeds so the dates live in one place.

The generator's purchase rate follows this calendar and dbt's calendar features read the same
seed files, so a model can learn exactly the seasonality the generator put in.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from ingest.paths import REPO_ROOT

SEEDS_DIR = REPO_ROOT / "dbt_project" / "seeds"
HOLIDAYS_SEED = SEEDS_DIR / "indian_holidays.csv"
FESTIVAL_SEASONS_SEED = SEEDS_DIR / "festival_seasons.csv"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Calendar:
    """Holiday dates and festival-season ranges (inclusive), as numpy ``datetime64[D]``."""

    holidays: np.ndarray
    season_starts: np.ndarray
    season_ends: np.ndarray
    season_years: frozenset[int]

    def is_holiday(self, days: np.ndarray) -> np.ndarray:
        """True where a ``datetime64[D]`` day is a national holiday or festival day."""
        return np.isin(days, self.holidays)

    def in_festival_season(self, days: np.ndarray) -> np.ndarray:
        """True where a day falls inside a festival season (Navratri–Diwali, from the seed)."""
        inside = np.zeros(days.shape, dtype=bool)
        for start, end in zip(self.season_starts, self.season_ends, strict=True):
            inside |= (days >= start) & (days <= end)
        return inside

    def warn_missing_seasons(self, first: date, last: date) -> list[int]:
        """Years in [first, last] with no festival-season row: those years get no season boost."""
        missing = [y for y in range(first.year, last.year + 1) if y not in self.season_years]
        if missing:
            log.warning(
                "festival_seasons.csv has no season for %s; no festival boost there", missing
            )
        return missing


def load_calendar(seeds_dir: Path = SEEDS_DIR) -> Calendar:
    """Read ``indian_holidays.csv`` and ``festival_seasons.csv`` from the dbt seeds folder."""
    with open(seeds_dir / HOLIDAYS_SEED.name, newline="") as f:
        holidays = sorted({row["holiday_date"] for row in csv.DictReader(f)})
    with open(seeds_dir / FESTIVAL_SEASONS_SEED.name, newline="") as f:
        seasons = list(csv.DictReader(f))
    return Calendar(
        holidays=np.array(holidays, dtype="datetime64[D]"),
        season_starts=np.array([s["season_start"] for s in seasons], dtype="datetime64[D]"),
        season_ends=np.array([s["season_end"] for s in seasons], dtype="datetime64[D]"),
        season_years=frozenset(int(s["season_year"]) for s in seasons),
    )
