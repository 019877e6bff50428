"""The holiday calendar seeds: generated from the `holidays` package, NULL where unknown."""

from __future__ import annotations

from datetime import date

import numpy as np

from ingest import holidays
from ingest.holidays import (
    CALENDAR_YEARS_SEED,
    HOLIDAYS_SEED,
    configured_calendar,
    generate_calendar,
    load_calendar,
    write_calendar,
)


def test_committed_seeds_are_what_the_package_generates_for_the_dbt_vars(tmp_path):
    write_calendar(configured_calendar(), tmp_path)
    for seed in (HOLIDAYS_SEED, CALENDAR_YEARS_SEED):
        assert (tmp_path / seed.name).read_text() == seed.read_text(), (
            f"{seed.name} is stale: run `python -m ingest.holidays`"
        )


def test_years_the_package_knows_only_in_part_are_not_covered():
    # the package has India's Hindu-calendar festivals (Holi, Diwali) from 2001 only
    calendar = generate_calendar("IN", 1999, 2002)
    assert sorted(calendar.seasons) == [2001, 2002]
    assert set(calendar.skipped) == {1999, 2000}
    assert all(d.year >= 2001 for d, _ in calendar.holidays)
    start, end = calendar.seasons[2001]
    diwali = [d for d, name in calendar.holidays if name == "Diwali" and d.year == 2001]
    assert (diwali[0] - start).days == 30 and (end - diwali[0]).days == 7


def test_a_country_without_diwali_has_covered_years_without_a_season(tmp_path):
    write_calendar(generate_calendar("GB", 2023, 2024), tmp_path)
    calendar = load_calendar(tmp_path)
    assert calendar.seasons == {2023: None, 2024: None}
    assert calendar.is_festival_season(date(2024, 10, 1)) is None
    assert calendar.days_to_next_holiday(date(2024, 12, 24)) == 1  # Christmas


def test_calendar_facts_are_null_outside_the_covered_years_not_garbage():
    calendar = load_calendar()
    first, last = min(calendar.seasons), max(calendar.seasons)
    # before the calendar: the old hand-made seed answered 4,216 days here
    assert calendar.days_to_next_holiday(date(first - 1, 6, 1)) is None
    assert calendar.is_festival_season(date(first - 1, 10, 20)) is None
    # after the last holiday of the last covered year, the next one is unknown
    assert calendar.days_to_next_holiday(date(last, 12, 31)) is None
    assert calendar.days_to_next_holiday(date(last + 1, 1, 1)) is None
    # inside: a real answer, never more than a year away
    assert calendar.days_to_next_holiday(date(2024, 1, 26)) == 0
    assert calendar.days_to_next_holiday(date(2024, 1, 25)) == 1
    assert calendar.is_festival_season(date(2024, 10, 31)) is True
    assert calendar.is_festival_season(date(2024, 6, 1)) is False


def test_the_next_holiday_across_an_uncovered_year_is_unknown(tmp_path):
    generated = generate_calendar("IN", 2020, 2024)
    del generated.seasons[2023]  # a gap, as if the package had warned for 2023
    write_calendar(generated, tmp_path)
    calendar = load_calendar(tmp_path)
    assert calendar.days_to_next_holiday(date(2022, 12, 31)) is None
    assert calendar.days_to_next_holiday(date(2022, 12, 1)) == 24  # Christmas 2022


def test_generator_views_agree_with_the_per_day_answers():
    calendar = load_calendar()
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2025-01-01"))
    as_dates = [d.item() for d in days]
    assert list(calendar.is_holiday(days)) == [
        calendar.days_to_next_holiday(d) == 0 for d in as_dates
    ]
    assert list(calendar.in_festival_season(days)) == [
        calendar.is_festival_season(d) for d in as_dates
    ]


def test_the_command_writes_the_seeds_for_the_years_asked(tmp_path, capsys):
    holidays.main(
        [
            "--country",
            "IN",
            "--from-year",
            "2000",
            "--to-year",
            "2001",
            "--seeds-dir",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert "skipped 2000" in out
    assert load_calendar(tmp_path).seasons.keys() == {2001}
