"""GET /insights: the observed repeat rate by segment, and the origin's claims checked against it.

Read from the segment_repeat_rates mart's Parquet file (api.segment_rates), so it works during
a dbt build and without a model or feature store: no file yet is a 503 saying what to run.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.claims import RULE, check_claims
from api.deps import SettingsDep
from api.insight_schemas import Insights, Segment
from api.segment_rates import NoSegmentRates, load_segment_rates, mart_path
from ingest.dbt_vars import label_window_days

# the app's own answer on the sample `make pipeline` builds (20,000 customers, seed 42), shown
# by /docs and written by `python -m api.docs_examples`; tests/insights check it is still valid
EXAMPLE_FILE = Path(__file__).with_name("insights_example.json")
EXAMPLE = json.loads(EXAMPLE_FILE.read_text(encoding="utf-8"))

router = APIRouter(prefix="/insights", tags=["insights"])


@router.get(
    "",
    responses={
        200: {"content": {"application/json": {"example": EXAMPLE}}},
        404: {"description": "no segment rates for that as-of date (the message lists them)"},
        503: {"description": "no segment_repeat_rates mart yet: the message says what to run"},
    },
)
def insights(
    settings: SettingsDep,
    as_of: Annotated[
        date | None,
        Query(
            description="an as-of date (YYYY-MM-DD) with a closed 30-day window; "
            "default: the latest",
            examples=["2025-12-01"],
        ),
    ] = None,
) -> Insights:
    """Who comes back, by segment: for every segment of seven dimensions (average order value,
    past orders, favourite category, weekend share, holiday share, payment method, location),
    the share of its customers who bought again within the window after the as-of date, with
    a 95 % interval; and the product's four origin claims, each supported, not supported or
    not enough data, with the groups compared as evidence."""
    try:
        rates = load_segment_rates(mart_path(settings))
    except NoSegmentRates as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "60"}) from None
    dates = rates.dates
    day = as_of or dates[0]
    if day not in rates.by_date:
        raise HTTPException(
            404,
            f"no segment repeat rates as of {day.isoformat()}; as-of dates with a closed "
            f"window: {', '.join(d.isoformat() for d in dates)}",
        )
    rows = rates.on(day)
    return Insights(
        as_of_date=day,
        label_window_days=label_window_days(),
        as_of_dates=dates,
        min_customers=settings.insights_min_customers,
        rule=RULE.format(min_customers=settings.insights_min_customers),
        claims=check_claims(rows, settings.insights_min_customers),
        segments=[
            Segment(**{name: getattr(row, name) for name in Segment.model_fields}) for row in rows
        ],
    )
