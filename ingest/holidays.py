"""The holiday calendar: generated from the `holidays` package, kept as dbt seeds, read by all.

    python -m ingest.holidays                              # the country and years in dbt vars
    python -m ingest.holidays --country IN --from-year 1990 --to-year 2030

writes two seeds, which `dbt seed` loads and the generator and the Spark backfill read here:

* ``holidays.csv`` — one row per public-holiday date of the country (names of holidays that
  share a day joined by "; ", as the package gives them);
* ``calendar_years.csv`` — one row per year the calendar covers, with that year's festival
  shopping season: 30 days before Diwali to 7 days after it (empty where the country has no
  Diwali).

A year is covered only when the package knows all of its holidays: for India it warns that
the Hindu-calendar festivals exist only for 2001–2035, and such a year is left out rather than
written with Holi and Diwali missing. On a day of an uncovered year the calendar features are
NULL in dbt and in the backfill alike (never "no holiday for 4,216 days"): see
:meth:`Calendar.days_to_next_holiday`, which both engines' SQL mirrors.

The committed seeds are this command's output for the dbt vars ``holiday_country`` and
``holiday_years`` (tests/ingest/test_holidays.py checks it), so `dbt build` works on a fresh
clone; a log from other years needs the command run with those years (and the vars changed).
"""

from __future__ import annotations

import argparse
import logging
import warnings
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from ingest.dbt_vars import dbt_vars
from ingest.seeds import SEEDS_DIR, read_seed, seed_path, write_seed

HOLIDAYS = "holidays"
CALENDAR_YEARS = "calendar_years"
HOLIDAYS_SEED = seed_path(HOLIDAYS)
CALENDAR_YEARS_SEED = seed_path(CALENDAR_YEARS)

# The festival shopping season: Navratri to a week after Diwali.
SEASON_ANCHOR = "Diwali"
SEASON_DAYS_BEFORE = 30
SEASON_DAYS_AFTER = 7

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GeneratedCalendar:
    """What the package gives for a country and a span of years."""

    country: str
    holidays: list[tuple[date, str]]
    seasons: dict[int, tuple[date, date] | None]  # covered year -> its season, if any
    skipped: dict[int, str]  # year -> why the package's calendar is incomplete there


def generate_calendar(country: str, first_year: int, last_year: int) -> GeneratedCalendar:
    """The country's public holidays and festival seasons for every complete year in range."""
    # imported here: readers of the seeds (the Spark backfill's executors) never need it
    import holidays as holidays_package

    if first_year > last_year:
        raise ValueError(f"--from-year {first_year} is after --to-year {last_year}")
    rows: list[tuple[date, str]] = []
    seasons: dict[int, tuple[date, date] | None] = {}
    skipped: dict[int, str] = {}
    for year in range(first_year, last_year + 1):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            days = holidays_package.country_holidays(country, years=year)
        if caught:
            skipped[year] = "; ".join(sorted({str(w.message) for w in caught}))
            continue
        rows += sorted(days.items())
        anchors = [d for d, name in days.items() if SEASON_ANCHOR in name.split("; ")]
        seasons[year] = (
            (
                min(anchors) - timedelta(days=SEASON_DAYS_BEFORE),
                min(anchors) + timedelta(days=SEASON_DAYS_AFTER),
            )
            if anchors
            else None
        )
    return GeneratedCalendar(country, rows, seasons, skipped)


def write_calendar(calendar: GeneratedCalendar, seeds_dir: Path = SEEDS_DIR) -> list[Path]:
    return [
        write_seed(HOLIDAYS, ["holiday_date", "holiday_name"], calendar.holidays, seeds_dir),
        write_seed(
            CALENDAR_YEARS,
            ["calendar_year", "country", "festival_season_start", "festival_season_end"],
            [
                [year, calendar.country, *(season or (None, None))]
                for year, season in sorted(calendar.seasons.items())
            ],
            seeds_dir,
        ),
    ]


@dataclass(frozen=True)
class Calendar:
    """The seeds as read back: holiday dates, covered years and their festival seasons."""

    holidays: tuple[date, ...]  # sorted, one per date
    seasons: dict[int, tuple[date, date] | None]  # covered year -> season (None: no season)

    def is_covered(self, day: date) -> bool:
        return day.year in self.seasons

    def days_to_next_holiday(self, day: date) -> int | None:
        """Days from ``day`` to the first holiday on or after it; None unless ``day``'s year
        and every year up to that holiday's are covered (else the answer would be a guess)."""
        index = int(np.searchsorted(self._holiday_days, np.datetime64(day, "D")))
        if index == len(self.holidays):
            return None
        upcoming = self.holidays[index]
        if any(y not in self.seasons for y in range(day.year, upcoming.year + 1)):
            return None
        return (upcoming - day).days

    def is_festival_season(self, day: date) -> bool | None:
        """None where the year is not covered or the country has no festival season."""
        season = self.seasons.get(day.year)
        return None if season is None else season[0] <= day <= season[1]

    @property
    def _holiday_days(self) -> np.ndarray:
        return np.array(self.holidays, dtype="datetime64[D]")

    # numpy views for the generator, which draws purchases day by day

    def is_holiday(self, days: np.ndarray) -> np.ndarray:
        """True where a ``datetime64[D]`` day is a holiday (uncovered days count as none)."""
        return np.isin(days, self._holiday_days)

    def in_festival_season(self, days: np.ndarray) -> np.ndarray:
        """True where a ``datetime64[D]`` day falls inside a festival season."""
        inside = np.zeros(days.shape, dtype=bool)
        for season in self.seasons.values():
            if season is not None:
                inside |= (days >= np.datetime64(season[0])) & (days <= np.datetime64(season[1]))
        return inside

    def warn_missing_seasons(self, first: date, last: date) -> list[int]:
        """Years in [first, last] with no festival season: those years get no season boost."""
        missing = [y for y in range(first.year, last.year + 1) if self.seasons.get(y) is None]
        if missing:
            log.warning("the holiday calendar has no festival season for %s", missing)
        return missing


def load_calendar(seeds_dir: Path = SEEDS_DIR) -> Calendar:
    """Read ``holidays.csv`` and ``calendar_years.csv`` from the dbt seeds folder."""
    days = sorted({date.fromisoformat(r["holiday_date"]) for r in read_seed(HOLIDAYS, seeds_dir)})
    seasons: dict[int, tuple[date, date] | None] = {}
    for row in read_seed(CALENDAR_YEARS, seeds_dir):
        start, end = row["festival_season_start"], row["festival_season_end"]
        seasons[int(row["calendar_year"])] = (
            (date.fromisoformat(start), date.fromisoformat(end)) if start else None
        )
    return Calendar(tuple(days), seasons)


def configured_calendar() -> GeneratedCalendar:
    """The calendar the dbt vars ask for: what the committed seeds must hold."""
    first, last = dbt_vars()["holiday_years"]
    return generate_calendar(str(dbt_vars()["holiday_country"]), int(first), int(last))


def main(argv: list[str] | None = None) -> None:
    configured_first, configured_last = dbt_vars()["holiday_years"]
    parser = argparse.ArgumentParser(
        prog="python -m ingest.holidays",
        description="Write the holiday seeds (dbt_project/seeds/holidays.csv and "
        "calendar_years.csv) from the `holidays` package. Defaults: the dbt vars "
        "holiday_country and holiday_years.",
    )
    parser.add_argument("--country", default=str(dbt_vars()["holiday_country"]))
    parser.add_argument("--from-year", type=int, default=int(configured_first))
    parser.add_argument("--to-year", type=int, default=int(configured_last))
    parser.add_argument("--seeds-dir", type=Path, default=SEEDS_DIR)
    args = parser.parse_args(argv)
    calendar = generate_calendar(args.country, args.from_year, args.to_year)
    if not calendar.seasons:
        raise SystemExit(f"no complete year in {args.from_year}-{args.to_year}: {calendar.skipped}")
    for year, why in calendar.skipped.items():
        print(f"skipped {year}: {why}")
    paths = write_calendar(calendar, args.seeds_dir)
    print(
        f"wrote {len(calendar.holidays)} holidays of {args.country} for "
        f"{len(calendar.seasons)} years to {', '.join(str(p) for p in paths)}"
    )


if __name__ == "__main__":
    main()
