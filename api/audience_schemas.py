"""The body of GET /audiences: one page of an audience, its size and its expected buyers by tier."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field


class AudienceCustomer(BaseModel):
    customer_id: str
    probability: float = Field(ge=0, le=1, description="of buying again within 30 days")
    tier: Literal["high", "medium", "low"]
    will_repeat: bool = Field(description="the verdict of the same rule as the tier")
    action: str = Field(description="what to do with this customer")
    reasons: list[str] = Field(description="the top reasons in words, strongest first")
    aov_band: str | None = Field(description="average order value band")
    orders_band: str | None
    recency_band: str | None
    favourite_category: str | None
    preferred_payment_method: str | None
    location: str | None
    avg_order_value: float | None
    orders_count: int | None
    recency_days: int | None


class TierSummary(BaseModel):
    tier: Literal["high", "medium", "low"]
    customers: int = Field(description="customers of the filtered audience in this tier")
    expected_buyers: float = Field(description="Σ probability: how many of them should buy")


class Audience(BaseModel):
    as_of_date: date | None = Field(description="the features the scores describe are as of")
    model_version: str | None
    total: int = Field(description="customers matching the filters (all pages)")
    expected_buyers: float = Field(description="Σ probability over the whole audience")
    tiers: list[TierSummary] = Field(description="high, medium, low: counts and Σ probability")
    limit: int
    offset: int
    sort: str
    order: Literal["asc", "desc"]
    message: str | None = Field(
        default=None, description="why the page is empty, when it is (no match, past the end)"
    )
    filter_values: dict[str, list[str]] = Field(
        description="every value each choice filter accepts, as the score file holds them"
    )
    customers: list[AudienceCustomer]
