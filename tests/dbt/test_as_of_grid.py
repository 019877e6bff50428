"""One as-of grid and one calendar rule: dbt's models equal the Python every engine calls.

`int_as_of_dates` (dbt) and :func:`ingest.as_of_grid.as_of_dates` (the Spark backfill, the
generator's ground truth) must give the same dates from the same vars; `int_calendar_days`
and :class:`ingest.holidays.Calendar` (the backfill's calendar features) the same facts.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from ingest.as_of_grid import as_of_dates, is_label_observed
from ingest.holidays import load_calendar


def _day(value) -> date:
    return pd.Timestamp(value).date()


def test_python_grid_equals_dbts_on_the_sample(warehouse):
    bounds = warehouse.query(
        "select min(order_date) as first, max(order_date) as latest "
        "from stg_transactions where is_purchase"
    ).iloc[0]
    first, latest = _day(bounds["first"]), _day(bounds["latest"])
    dbt = warehouse.query(
        "select as_of_date, is_label_observed from int_as_of_dates order by as_of_date desc"
    )
    expected = as_of_dates(latest, first=first)
    assert [_day(d) for d in dbt["as_of_date"]] == expected
    assert list(dbt["is_label_observed"]) == [is_label_observed(d, latest) for d in expected]


def test_python_calendar_equals_dbts_calendar_days(warehouse):
    calendar = load_calendar()
    days = warehouse.query(
        "select calendar_date, is_holiday, days_to_next_holiday, is_festival_season "
        "from int_calendar_days order by calendar_date"
    )
    assert len(days) > 365
    for row in days.itertuples():
        day = _day(row.calendar_date)
        dbt_next = None if pd.isna(row.days_to_next_holiday) else int(row.days_to_next_holiday)
        dbt_season = None if pd.isna(row.is_festival_season) else bool(row.is_festival_season)
        python_next = calendar.days_to_next_holiday(day)
        assert (dbt_next, dbt_season) == (python_next, calendar.is_festival_season(day)), day
        assert bool(row.is_holiday) == (python_next == 0), day
