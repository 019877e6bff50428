"""Predictions: by customer id (one, or a batch), and what-if from raw feature values.

Ids follow the project's one rule (ingest.customer_ids, via feature_repo.lookup): trimmed,
case kept, any other text allowed, placeholders like "NULL" refused with a 422. In the URL an
id is one percent-encoded segment or more: `{customer_id:path}` lets an encoded "/" through.
Bodies are strict JSON (api.validation.StrictJsonRoute).

Every prediction answered is queued for the serve log (api/serve_log.py) as the answer is
built: a tuple appended under a lock, the writing happens in a background thread.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import ServeLogDep, ServingDep, SettingsDep
from api.feature_inputs import feature_values_model
from api.schemas import BatchRequest, BatchResponse, Prediction, PredictRequest, WhatIfPrediction
from api.scoring import json_bytes, not_found_message, predict_customers, score_features
from api.serve_log import ServeLog
from api.settings import Settings
from api.snapshot import Serving
from api.validation import StrictJsonRoute, json_safe

FeatureValues = feature_values_model()
WHAT_IF_LOGGED = {"model_version", "probability", "tier"}  # no customer, no as-of date

NOT_FOUND = {404: {"description": "the customer is not in the online store"}}
UNAVAILABLE = {503: {"description": "no model loaded, or the online store is unreachable"}}

# FastAPI answers 400 to a body it cannot decode (not UTF-8), before any validation
UNDECODABLE = {400: {"description": "the body cannot be decoded as JSON text"}}

router = APIRouter(
    prefix="/predict", tags=["predictions"], responses=UNDECODABLE, route_class=StrictJsonRoute
)
customers = APIRouter(prefix="/customers", tags=["predictions"])


def _one(
    serving: Serving, customer_id: str, settings: Settings, serve_log: ServeLog | None
) -> Response:
    (item,) = predict_customers(serving, [customer_id], settings)
    if item["status"] == "invalid":
        # shaped like FastAPI's own 422 (HTTPValidationError), which /openapi.json documents
        error = {"type": "value_error", "loc": ("path", "customer_id"), "msg": item["error"]}
        raise RequestValidationError([{**error, "input": customer_id}])
    if item["prediction"] is None:
        raise HTTPException(404, not_found_message(customer_id))
    if serve_log is not None:
        serve_log.record("by_id", (item["prediction"],))
    return Response(json_bytes(item["prediction"]), media_type="application/json")


async def _one_async(
    serving: Serving, customer_id: str, settings: Settings, serve_log: ServeLog | None
) -> Response:
    """The compiled path takes well under a millisecond: it runs on the event loop, with no
    thread-pool hop. The slow path (an artifact fast_path cannot compile) goes to a thread."""
    if serving.fast is None:
        return await run_in_threadpool(_one, serving, customer_id, settings, serve_log)
    return _one(serving, customer_id, settings, serve_log)


# The routes return ready JSON (the dicts scoring builds, serialised by pydantic-core);
# response_model keeps the documented schema in /docs.
@router.post("", response_model=Prediction, responses={**NOT_FOUND, **UNAVAILABLE})
async def predict(
    body: PredictRequest, serving: ServingDep, settings: SettingsDep, serve_log: ServeLogDep
) -> Response:
    """Probability that the customer buys again within the label window, with reasons."""
    return await _one_async(serving, body.customer_id, settings, serve_log)


@customers.get(
    "/{customer_id:path}/prediction",
    response_model=Prediction,
    responses={**NOT_FOUND, **UNAVAILABLE},
)
async def customer_prediction(
    customer_id: Annotated[str, Path(max_length=200)],
    serving: ServingDep,
    settings: SettingsDep,
    serve_log: ServeLogDep,
) -> Response:
    """The same as POST /predict, addressable as a resource."""
    return await _one_async(serving, customer_id, settings, serve_log)


@router.post(
    "/batch",
    response_model=BatchResponse,
    responses={413: {"description": "more ids than API_BATCH_MAX"}, **UNAVAILABLE},
)
def predict_batch(
    body: BatchRequest, serving: ServingDep, settings: SettingsDep, serve_log: ServeLogDep
) -> Response:
    """Up to API_BATCH_MAX ids in one online lookup and one model call. Unknown or malformed
    ids are reported per item (status not_found / invalid) without failing the rest. Ids that
    are the same customer once normalised (" C1" and "C1") are answered once, at the first."""
    if len(body.customer_ids) > settings.batch_max:
        raise HTTPException(
            413,
            f"{len(body.customer_ids)} ids in one batch; the limit is {settings.batch_max} "
            "(API_BATCH_MAX): split the list",
        )
    items = predict_customers(serving, body.customer_ids, settings)
    if serve_log is not None:  # the customers found; each once, as answered
        serve_log.record("batch", [i["prediction"] for i in items if i["status"] == "ok"])
    for item in items:  # an invalid id is echoed as sent: it may not even be encodable
        item["customer_id"] = json_safe(item["customer_id"])
    body_out = {
        "model_version": serving.model.version,
        "count": len(items),
        "found": sum(item["status"] == "ok" for item in items),
        "items": items,
    }
    return Response(json_bytes(body_out), media_type="application/json")


@router.post("/features", responses=UNAVAILABLE)
def predict_features(
    body: FeatureValues,  # type: ignore[valid-type]  # a model generated at import
    serving: ServingDep,
    settings: SettingsDep,
    serve_log: ServeLogDep,
) -> WhatIfPrediction:
    """What-if: score raw feature values. Every feature is optional; a missing one is treated
    as training treated missing values."""
    values = body.model_dump()
    scores = score_features(serving, values, settings)
    if serve_log is not None:
        serve_log.record("what_if", (scores.model_dump(include=WHAT_IF_LOGGED),))
    missing = [name for name, value in values.items() if value is None]
    return WhatIfPrediction(missing_features=missing, **scores.model_dump())
