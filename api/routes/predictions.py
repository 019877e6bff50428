"""Predictions: by customer id (one, or a batch), and what-if from raw feature values."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from api.deps import ServingDep, SettingsDep
from api.feature_inputs import feature_values_model
from api.schemas import BatchRequest, BatchResponse, Prediction, PredictRequest, WhatIfPrediction
from api.scoring import not_found_message, predict_customers, score_features
from api.serving import Serving
from api.settings import Settings

FeatureValues = feature_values_model()

NOT_FOUND = {404: {"description": "the customer is not in the online store"}}
UNAVAILABLE = {503: {"description": "no model loaded, or the online store is unreachable"}}

router = APIRouter(prefix="/predict", tags=["predictions"])
customers = APIRouter(prefix="/customers", tags=["predictions"])


def _one(serving: Serving, customer_id: str, settings: Settings) -> Prediction:
    (item,) = predict_customers(serving, [customer_id], settings)
    if item.status == "invalid":
        raise HTTPException(422, item.error)
    if item.prediction is None:
        raise HTTPException(404, not_found_message(customer_id))
    return item.prediction


@router.post("", responses={**NOT_FOUND, **UNAVAILABLE})
def predict(body: PredictRequest, serving: ServingDep, settings: SettingsDep) -> Prediction:
    """Probability that the customer buys again within the label window, with reasons."""
    return _one(serving, body.customer_id, settings)


@customers.get("/{customer_id}/prediction", responses={**NOT_FOUND, **UNAVAILABLE})
def customer_prediction(
    customer_id: Annotated[str, Path(max_length=200)], serving: ServingDep, settings: SettingsDep
) -> Prediction:
    """The same as POST /predict, addressable as a resource."""
    return _one(serving, customer_id, settings)


@router.post(
    "/batch",
    responses={413: {"description": "more ids than API_BATCH_MAX"}, **UNAVAILABLE},
)
def predict_batch(body: BatchRequest, serving: ServingDep, settings: SettingsDep) -> BatchResponse:
    """Up to API_BATCH_MAX ids in one online lookup and one model call. Unknown or malformed
    ids are reported per item (status not_found / invalid) without failing the rest."""
    if len(body.customer_ids) > settings.batch_max:
        raise HTTPException(
            413,
            f"{len(body.customer_ids)} ids in one batch; the limit is {settings.batch_max} "
            "(API_BATCH_MAX): split the list",
        )
    items = predict_customers(serving, body.customer_ids, settings)
    return BatchResponse(
        model_version=serving.model.version,
        count=len(items),
        found=sum(item.status == "ok" for item in items),
        items=items,
    )


@router.post("/features", responses=UNAVAILABLE)
def predict_features(
    body: FeatureValues,  # type: ignore[valid-type]  # a model generated at import
    serving: ServingDep,
    settings: SettingsDep,
) -> WhatIfPrediction:
    """What-if: score raw feature values. Every feature is optional; a missing one is treated
    as training treated missing values."""
    values = body.model_dump()
    scores = score_features(serving.model, values, settings)
    missing = [name for name, value in values.items() if value is None]
    return WhatIfPrediction(missing_features=missing, **scores.model_dump())
