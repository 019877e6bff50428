"""GET /audiences and GET /audiences.csv: who to contact, from every customer's score.

Read from the customer_scores file (api.audience_query), never the model or the feature
store, so it answers without either. No file yet is a 503 saying what to run; a value the
file does not hold, a number out of range or a page over the cap is a 422 naming what is
allowed; an audience nobody matches is a 200 with total 0 and a message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import StreamingResponse

from api.audience_query import (
    CHOICE_FILTERS,
    SORT_COLUMNS,
    TIERS,
    AudienceFilter,
    NoScores,
    Snapshot,
    reader_for,
)
from api.audience_schemas import Audience, AudienceCustomer, TierSummary
from api.deps import SettingsDep
from api.settings import Settings
from ingest.paths import pipeline_paths
from scoring.schema import SCORES_FILE

# shown by /docs: the app's own answers on the sample (`python -m api.docs_examples` writes
# them); tests/audiences check that they are still valid answers
EXAMPLE_FILE = Path(__file__).with_name("audiences_example.json")
EXAMPLE = json.loads(EXAMPLE_FILE.read_text(encoding="utf-8"))
CSV_EXAMPLE = EXAMPLE_FILE.with_suffix(".csv").read_text(encoding="utf-8")
MAX_VALUES = 100  # values per filter
MAX_VALUE_LENGTH = 200
MAX_OFFSET = 1_000_000_000

router = APIRouter(tags=["audiences"])

Choice = Annotated[
    list[str] | None,
    Query(description="repeat the parameter for several values; see filter_values"),
]
Probability = Annotated[float | None, Query(ge=0, le=1, allow_inf_nan=False)]


def scores_path(settings: Settings) -> Path:
    return settings.scores_path or pipeline_paths().scores_dir / SCORES_FILE


def _checked(name: str, given: list[str] | None, valid: tuple[str, ...]) -> tuple[str, ...]:
    """The distinct values given, each one the file holds; a 422 naming the valid ones."""
    values = tuple(dict.fromkeys(given or ()))
    if len(values) > MAX_VALUES:
        raise HTTPException(422, f"{name}: at most {MAX_VALUES} values")
    for value in values:
        if value not in valid:
            shown = value if len(value) <= 60 else value[:57] + "..."
            raise HTTPException(
                422,
                f"unknown {name} {shown!r}: valid values are "
                + (", ".join(valid) if valid else "none (the score file holds no customer)"),
            )
    return values


class AudienceRequest:
    """The filters and sort both routes take, checked against the score file in force."""

    def __init__(
        self,
        settings: SettingsDep,
        tier: Annotated[
            list[str] | None,
            Query(description="high, medium or low; repeat it or give a comma list"),
        ] = None,
        min_probability: Probability = None,
        max_probability: Probability = None,
        favourite_category: Choice = None,
        aov_band: Annotated[list[str] | None, Query(description="average order value band")] = None,
        recency_band: Choice = None,
        location: Choice = None,
        payment_method: Choice = None,
        sort: Annotated[Literal[SORT_COLUMNS], Query()] = "probability",  # type: ignore[valid-type]
        order: Literal["asc", "desc"] = "desc",
    ) -> None:
        low, high = min_probability, max_probability
        if low is not None and high is not None and low > high:
            raise HTTPException(422, f"min_probability {low} is above max_probability {high}")
        given = {
            "favourite_category": favourite_category,
            "aov_band": aov_band,
            "recency_band": recency_band,
            "location": location,
            "payment_method": payment_method,
        }
        for values in (tier, *given.values()):
            if any(len(value) > MAX_VALUE_LENGTH for value in values or ()):
                raise HTTPException(422, f"a filter value is longer than {MAX_VALUE_LENGTH}")
        tiers = [t.strip().lower() for part in tier or () for t in part.split(",") if t.strip()]
        tiers_checked = _checked("tier", tiers, TIERS)
        try:
            self.snapshot: Snapshot = reader_for(scores_path(settings)).current()
        except NoScores as exc:
            raise HTTPException(503, str(exc), headers={"Retry-After": "60"}) from None
        self.filter = AudienceFilter(
            tiers=tiers_checked,
            min_probability=min_probability,
            max_probability=max_probability,
            choices={
                name: _checked(name, given[name], self.snapshot.values[name])
                for name in CHOICE_FILTERS
            },
        )
        self.sort = sort
        self.order = order


AudienceDep = Annotated[AudienceRequest, Depends()]


@router.get(
    "/audiences",
    responses={
        200: {"content": {"application/json": {"example": EXAMPLE}}},
        422: {"description": "a value the file does not hold (the message lists the valid "
              "ones), a number out of range, or a page over the cap"},
        503: {"description": "no customer_scores file yet, or a damaged one: the message "
              "says what to run"},
    },
)  # fmt: skip
def audience(
    request: AudienceDep,
    settings: SettingsDep,
    limit: Annotated[
        int, Query(ge=1, description="customers per page (API_AUDIENCE_PAGE_MAX)")
    ] = 100,
    offset: Annotated[int | None, Query(ge=0, le=MAX_OFFSET)] = None,
    page: Annotated[
        int | None, Query(ge=1, le=MAX_OFFSET, description="1-based; or offset")
    ] = None,
) -> Audience:
    """Who to contact: every scored customer matching the filters (tier, probability range,
    favourite category, average order value band, recency band, location, payment method),
    a page at a time, highest probability first by default; with the audience's size and,
    per tier, its customers and expected buyers (the sum of their probabilities)."""
    if limit > settings.audience_page_max:
        raise HTTPException(
            422, f"limit {limit} is over the page cap of {settings.audience_page_max}; "
            "use GET /audiences.csv for the whole audience",
        )  # fmt: skip
    if offset is not None and page is not None:
        raise HTTPException(422, "give offset or page, not both")
    start = offset if offset is not None else ((page or 1) - 1) * limit
    if start > MAX_OFFSET:
        raise HTTPException(422, f"the page starts past customer {MAX_OFFSET}")
    snapshot = request.snapshot
    result = snapshot.page(request.filter, request.sort, request.order == "desc", limit, start)
    message = None
    if result.total == 0:
        message = "no customer matches these filters; widen them"
    elif not result.rows:
        message = f"offset {start} is past the end of the audience ({result.total} customers)"
    return Audience(
        as_of_date=snapshot.as_of_date,
        model_version=snapshot.model_version,
        total=result.total,
        expected_buyers=round(sum(t.expected_buyers for t in result.tiers), 3),
        tiers=[
            TierSummary(
                tier=t.tier, customers=t.customers, expected_buyers=round(t.expected_buyers, 3)
            )
            for t in result.tiers
        ],
        limit=limit,
        offset=start,
        sort=request.sort,
        order=request.order,
        message=message,
        filter_values={name: list(values) for name, values in snapshot.values.items()},
        customers=[
            AudienceCustomer(
                **{k: v for k, v in row.items() if not k.startswith("reason_")},
                reasons=[row[k] for k in ("reason_1", "reason_2", "reason_3") if row[k]],
            )
            for row in result.rows
        ],
    )


@router.get(
    "/audiences.csv",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {"example": CSV_EXAMPLE}},
            "description": "every matching customer, streamed; X-Total-Count gives how many",
        },
        422: {"description": "as GET /audiences"},
        503: {"description": "no customer_scores file yet, or a damaged one"},
    },
)
def audience_csv(request: AudienceDep) -> StreamingResponse:
    """The whole audience of the same filters as a CSV file for a campaign tool: every matching
    customer (no pages) with probability, tier, action, the top reasons in words and the
    segment attributes, streamed as it is read. Text that a spreadsheet would run as a formula
    (starting with = + - @) starts with a quote."""
    snapshot = request.snapshot
    total = snapshot.count(request.filter)
    tiers = "-".join(request.filter.tiers) or "all"
    as_of = snapshot.as_of_date.isoformat() if snapshot.as_of_date else "none"
    return StreamingResponse(
        snapshot.csv_batches(request.filter, request.sort, request.order == "desc"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="audience-{as_of}-{tiers}.csv"',
            "X-Total-Count": str(total),
        },
    )
