"""From feature rows to answers: probability, decision, tier + action, reasons.

Every entry point scores many rows with ONE model call and ONE explanation call, so a batch of
1,000 ids costs one online lookup and one pass through the model, not 1,000.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from api.errors import StoreUnavailable
from api.schemas import BatchItem, Prediction, Reason, Scores
from api.serving import Serving
from api.settings import Settings
from feature_repo.lookup import (
    InvalidCustomerId,
    OnlineFeatures,
    get_online_features,
    normalize_customer_id,
)
from modeling.artifact import LoadedModel
from modeling.explain import explain

log = logging.getLogger("api.scoring")

ACTIONS = {
    "high": "Likely to buy again: reward programmes and premium offers.",
    "medium": "Could go either way: targeted campaigns.",
    "low": "Unlikely to buy again soon: strong win-back incentives.",
}


def tier_for(probability: float, settings: Settings) -> str:
    if probability >= settings.tier_high:
        return "high"
    if probability >= settings.tier_medium:
        return "medium"
    return "low"


def score_frame(model: LoadedModel, frame: pd.DataFrame, settings: Settings) -> list[Scores]:
    """Scores for every row of raw features (columns as Feast returns them)."""
    if frame.empty:
        return []
    probabilities = model.predict_proba(frame)
    explanations = explain(model, frame, top=settings.top_reasons)
    threshold = round(model.threshold, 6)  # stored as float32: 0.3714 not 0.37139999…
    results = []
    for probability, explanation in zip(probabilities, explanations, strict=True):
        p = round(float(probability), 6)
        tier = tier_for(p, settings)
        results.append(
            Scores(
                probability=p,
                will_repeat=p >= threshold,
                threshold=threshold,
                tier=tier,
                action=ACTIONS[tier],
                reasons=[Reason(**vars(r)) for r in explanation.reasons],
                explanation_method=explanation.method,
                model_version=model.version,
            )
        )
    return results


def lookup(serving: Serving, customer_ids: list[str]) -> list[OnlineFeatures]:
    """One online lookup; any store failure becomes StoreUnavailable (503)."""
    try:
        return get_online_features(serving.store, customer_ids)
    except InvalidCustomerId:
        raise
    except Exception as exc:
        log.warning("online store lookup failed: %s: %s", type(exc).__name__, exc)
        raise StoreUnavailable(type(exc).__name__) from exc


def _frame(model: LoadedModel, rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(rows), columns=list(model.spec.names))


def predict_customers(
    serving: Serving, customer_ids: list[str], settings: Settings
) -> list[BatchItem]:
    """Per-id results in request order; malformed and unknown ids never fail the others."""
    normalized: list[str | None] = []
    errors: dict[int, str] = {}
    for i, raw in enumerate(customer_ids):
        try:
            normalized.append(normalize_customer_id(raw))
        except InvalidCustomerId as exc:
            normalized.append(None)
            errors[i] = str(exc)
    valid = [c for c in normalized if c is not None]
    found = [row for row in lookup(serving, valid) if row.found] if valid else []
    scores = score_frame(
        serving.model, _frame(serving.model, [r.features for r in found]), settings
    )
    now = datetime.now(UTC)
    by_id = {
        row.customer_id: Prediction(
            customer_id=row.customer_id,
            features_as_of=row.as_of,
            stale=row.is_stale(settings.stale_after, now),
            **score.model_dump(),
        )
        for row, score in zip(found, scores, strict=True)
    }
    items = []
    for i, (raw, customer_id) in enumerate(zip(customer_ids, normalized, strict=True)):
        if customer_id is None:
            items.append(BatchItem(customer_id=raw, status="invalid", error=errors[i]))
        elif customer_id not in by_id:
            items.append(
                BatchItem(customer_id=raw, status="not_found", error=not_found_message(customer_id))
            )
        else:
            items.append(BatchItem(customer_id=raw, status="ok", prediction=by_id[customer_id]))
    return items


def not_found_message(customer_id: str) -> str:
    return (
        f"customer {customer_id} is not in the online feature store "
        "(no purchase in the data, or features not materialized yet)"
    )


def score_features(model: LoadedModel, values: dict[str, Any], settings: Settings) -> Scores:
    (scores,) = score_frame(model, _frame(model, [values]), settings)
    return scores
