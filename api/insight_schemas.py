"""The body of GET /insights: segment repeat rates and the origin's claims checked against them."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

Verdict = Literal["supported", "not supported", "not enough data"]


class Segment(BaseModel):
    dimension: str = Field(description="the customer_features column the segment bands")
    segment: str = Field(description="the segment in words, e.g. 'over ₹30,000'")
    segment_order: int = Field(description="its place in the dimension, from 1 (low to high)")
    customers: int = Field(description="customers in the segment at the as-of date")
    repeaters: int = Field(description="of those, customers who bought again in the window")
    repeat_rate: float = Field(ge=0, le=1, description="repeaters / customers")
    ci_low: float = Field(ge=0, le=1, description="95 % Wilson interval, lower bound")
    ci_high: float = Field(ge=0, le=1, description="95 % Wilson interval, upper bound")


class Group(BaseModel):
    """One side of a comparison: the segments it pools and their pooled rate."""

    label: str
    segments: list[str]
    customers: int
    repeaters: int
    repeat_rate: float | None = Field(description="null when the group has no customers")
    ci_low: float | None
    ci_high: float | None


class Comparison(BaseModel):
    dimension: str
    higher: Group = Field(description="the group the claim says repeats more")
    lower: Group = Field(description="the group the claim says repeats less")
    verdict: Verdict
    reason: str


class Claim(BaseModel):
    id: str
    claim: str = Field(description="the claim, as the product's origin made it")
    verdict: Verdict
    summary: str = Field(description="the verdict and its evidence in one or two sentences")
    comparisons: list[Comparison] = Field(description="the evidence: every pair the claim needs")


class Insights(BaseModel):
    as_of_date: date = Field(description="segments as of this date; outcome in the window after")
    label_window_days: int = Field(description="a repeat is a purchase within this many days")
    as_of_dates: list[date] = Field(
        description="every as-of date with a closed window, newest first"
    )
    min_customers: int = Field(description="fewer customers in a group: 'not enough data'")
    rule: str = Field(description="how a verdict is decided")
    claims: list[Claim]
    segments: list[Segment]
