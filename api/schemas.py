"""Request and response bodies: the contract /docs shows. (The what-if body is generated from
the dbt contract in feature_inputs.py.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from feature_repo.lookup import InvalidCustomerId, normalize_customer_id

Tier = Literal["high", "medium", "low"]


class PredictRequest(BaseModel):
    customer_id: str = Field(
        examples=["C0000042"],
        max_length=200,
        description="as in the imported data: surrounding spaces are trimmed, case is kept; "
        'empty or a placeholder like "NULL" is refused (422)',
    )

    @field_validator("customer_id")
    @classmethod
    def _well_formed(cls, value: str) -> str:
        try:
            return normalize_customer_id(value)
        except InvalidCustomerId as exc:
            raise ValueError(str(exc)) from exc


class BatchRequest(BaseModel):
    # the upper limit is API_BATCH_MAX, checked in the route (413 with a message)
    customer_ids: list[str] = Field(min_length=1, examples=[["C0000001", "C0000002"]])


class Reason(BaseModel):
    feature: str
    value: float | int | str | bool | None = Field(description="the customer's raw value")
    contribution: float = Field(description="push on the model score; > 0 raises it")
    direction: Literal["up", "down"]
    method: str = Field(description="how it was computed, e.g. xgboost_tree_shap")
    unit: str = Field(description="log_odds or probability (of the uncalibrated score)")
    text: str = Field(
        description="the value in words, from the feature contract",
        examples=["Last order 83 days ago"],
    )
    effect: Literal["raises the chance", "lowers the chance"] = Field(
        description="the direction in words: the move from the base rate this feature makes"
    )


class Scores(BaseModel):
    probability: float = Field(ge=0, le=1, description="calibrated P(purchase in 30 days)")
    will_repeat: bool = Field(description="probability ≥ the model's threshold (tier not low)")
    threshold: float = Field(description="the model's threshold: below it, low tier, not likely")
    high_cutoff: float = Field(description="from here on, high tier (GET /model: decision_rule)")
    tier: Tier = Field(
        description="high ≥ high_cutoff; medium from threshold to high_cutoff; low < threshold"
    )
    action: str
    decision: str = Field(description="why this tier and verdict, in one sentence")
    base_rate: float | None = Field(
        description="a typical customer's probability (the model's mean on validation data); "
        "reasons move the answer up or down from it; null when the model does not say"
    )
    reasons: list[Reason] = Field(
        description="the largest pushes, never a calendar feature of the as-of date"
    )
    explanation_method: str
    model_version: str


class Prediction(Scores):
    customer_id: str
    features_as_of: datetime | None
    stale: bool = Field(description="features older than API_STALE_AFTER_HOURS")


class WhatIfPrediction(Scores):
    missing_features: list[str] = Field(description="features not given, scored as missing")


class BatchItem(BaseModel):
    customer_id: str = Field(description="the id as sent")
    status: Literal["ok", "not_found", "invalid"]
    error: str | None = None
    prediction: Prediction | None = None


class BatchResponse(BaseModel):
    model_version: str
    count: int
    found: int
    items: list[BatchItem]


class FeatureType(BaseModel):
    name: str
    type: str


class DecisionRuleCard(BaseModel):
    threshold: float = Field(description="the model's threshold: likely to buy again from here")
    high_cutoff: float = Field(description="high tier from here on (≥ threshold)")
    high_top_percent: float | None = Field(
        description="set when the high cut-off is a capacity: the top N % of validation scores"
    )
    sentence: str = Field(description="the rule in words, as the web card states it")


class Promotion(BaseModel):
    """Why the served model is in models/current: its latest models/promotions.jsonl entry."""

    action: Literal["promote", "rollback"]
    time: datetime
    version: str
    previous: str | None = Field(description="the model it replaced in models/current")
    reason: str
    compared_on: str | None = Field(
        default=None, description="the as-of date it and the model it replaced were scored on"
    )
    figures: dict[str, Any] | None = Field(
        default=None, description="both models' PR-AUC and ROC-AUC there, and the margin"
    )


class ModelCard(BaseModel):
    version: str
    model: str
    model_name: str | None = None
    trained_at: datetime
    feature_service: str
    label_window_days: int | None = None
    as_of_range: dict[str, Any]
    threshold: float
    metrics: dict[str, Any]
    features: list[FeatureType]
    explanation_method: str
    decision_rule: DecisionRuleCard
    base_rate: float | None = Field(description="a typical customer's probability")
    promotion: Promotion | None = Field(
        default=None,
        description="why this model serves (promoted over the previous one, or rolled back "
        "to); null when models/promotions.jsonl does not mention it",
    )


class Health(BaseModel):
    status: Literal["ok", "not_ready"]
    live: bool = True
    ready: bool
    model_loaded: bool
    model_version: str | None = None
    online_store: Literal["reachable", "unreachable", "not_opened"]
    detail: str | None = None


class ReloadResponse(BaseModel):
    previous_version: str | None
    model_version: str
    trained_at: datetime
