"""From feature rows to answers: probability, decision (tier, verdict, action), reasons.

The decision is modeling.decision's one rule (the batch scorer uses it too); reasons are
modeling.reasons' words, without calendar features, each a movement from the base rate.

Every entry point scores many rows with ONE model call and ONE explanation call, so a batch of
1,000 ids costs one online lookup and one pass through the model, not 1,000.

The hot path builds plain dicts shaped exactly like the pydantic models in api.schemas (which
stay the documented contract) and serialises them once with pydantic-core (`to_json`): no
DataFrame, no model validation per request. The model call is the compiled fast path
(modeling.fast_path) when the snapshot has one, else LoadedModel + modeling.explain.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from pydantic_core import to_json

from api.errors import StoreUnavailable
from api.schemas import Reason, Scores
from api.settings import Settings
from api.snapshot import Serving
from feature_repo.lookup import InvalidCustomerId, normalize_customer_id, reader_for
from feature_repo.online_reader import OnlineFeatures
from modeling.artifact import LoadedModel
from modeling.decision import ACTIONS as ACTIONS  # re-exported: api.serving checks tiers
from modeling.decision import DecisionRule, decide, rule_for
from modeling.explain import explain
from modeling.reasons import customer_reasons, same_for_everyone

log = logging.getLogger("api.scoring")


def base_rate_for(model: LoadedModel) -> float | None:
    """What a typical customer scores: the mean calibrated probability on validation data
    (metadata `base_rate`, written at training); for older models the test set's share of
    repeaters (metrics.positive_rate: a calibrated model's mean); else None."""
    meta = model.metadata
    for value in (meta.get("base_rate"), (meta.get("metrics") or {}).get("positive_rate")):
        if isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value <= 1:
            return round(float(value), 6)
    return None


def _asked(settings: Settings) -> int:
    """Reasons to ask explain for, so `top_reasons` remain once calendar features are dropped."""
    top = settings.top_reasons
    return top + len(same_for_everyone()) if top > 0 else 0


def _answer(
    p: float, rule: DecisionRule, base_rate: float | None, reasons: list[dict], method: str
) -> dict[str, Any]:
    decision = decide(p, rule)
    return {
        "probability": p,
        "will_repeat": decision.will_repeat,
        "threshold": rule.threshold,
        "high_cutoff": rule.high,
        "tier": decision.tier,
        "action": decision.action,
        "decision": decision.explanation,
        "base_rate": base_rate,
        "reasons": reasons,
        "explanation_method": method,
    }


def score_frame(model: LoadedModel, frame: pd.DataFrame, settings: Settings) -> list[Scores]:
    """Scores for every row of raw features (columns as Feast returns them)."""
    if frame.empty:
        return []
    probabilities = model.predict_proba(frame)
    explanations = explain(model, frame, top=_asked(settings))
    rule, base_rate = rule_for(model, settings), base_rate_for(model)
    results = []
    rows = frame.to_dict("records")
    for probability, explanation, row in zip(probabilities, explanations, rows, strict=True):
        p = round(float(probability), 6)
        reasons = customer_reasons(explanation.reasons, row, settings.top_reasons)
        answer = _answer(p, rule, base_rate, reasons, explanation.method)
        answer["reasons"] = [Reason(**r) for r in reasons]
        results.append(Scores(**answer, model_version=model.version))
    return results


def lookup(serving: Serving, customer_ids: list[str]) -> list[OnlineFeatures]:
    """The one online read of the API (predictions and /health): normalised ids through the
    snapshot's reader (fast when it may, Feast's get_online_features otherwise; built for the
    store when the snapshot has none). Any store failure becomes StoreUnavailable (503)."""
    try:
        return (serving.online or reader_for(serving.store)).read(customer_ids)
    except Exception as exc:
        log.warning("online store lookup failed: %s: %s", type(exc).__name__, exc)
        raise StoreUnavailable(type(exc).__name__) from exc


def _frame(model: LoadedModel, rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(rows), columns=list(model.spec.names))


def score_rows(
    serving: Serving, rows: Sequence[dict[str, Any]], settings: Settings
) -> list[dict[str, Any]]:
    """Scores (as dicts shaped like api.schemas.Scores) for raw feature rows, one model call."""
    if not rows:
        return []
    model, fast = serving.model, serving.fast
    if fast is None:
        return [s.model_dump() for s in score_frame(model, _frame(model, rows), settings)]
    scored = fast.score(rows, top=_asked(settings))
    rule, base_rate = rule_for(model, settings), base_rate_for(model)
    version = model.version
    results = []
    for probability, explanation, row in zip(
        scored.probabilities.tolist(), scored.explanations or [], rows, strict=True
    ):
        reasons = customer_reasons(explanation.reasons, row, settings.top_reasons)
        answer = _answer(round(probability, 6), rule, base_rate, reasons, explanation.method)
        answer["model_version"] = version
        results.append(answer)
    return results


def predict_customers(
    serving: Serving, customer_ids: list[str], settings: Settings
) -> list[dict[str, Any]]:
    """Per-customer results (dicts shaped like api.schemas.BatchItem) in request order;
    malformed and unknown ids never fail the others.

    This is where a request's ids are normalised, once: ids that are the same customer once
    normalised (" C1" and "C1"), and repeats of the same invalid text, are answered once, at
    the first; each item echoes the id as sent."""
    firsts: list[tuple[str, str | None, str | None]] = []  # (as sent, normalised, error)
    seen: set[tuple[bool, str]] = set()
    for raw in customer_ids:
        try:
            customer_id, error = normalize_customer_id(raw), None
            key = (True, customer_id)
        except InvalidCustomerId as exc:
            customer_id, error = None, str(exc)
            key = (False, raw)
        if key not in seen:
            seen.add(key)
            firsts.append((raw, customer_id, error))
    valid = [customer_id for _, customer_id, _ in firsts if customer_id is not None]
    found = [row for row in lookup(serving, valid) if row.found] if valid else []
    scores = _cached_scores(serving, found, settings)
    now = datetime.now(UTC)
    stale_after = settings.stale_after
    by_id = {
        row.customer_id: {
            **score,
            "customer_id": row.customer_id,
            "features_as_of": row.as_of,
            "stale": row.is_stale(stale_after, now),
        }
        for row, score in zip(found, scores, strict=True)
    }
    items: list[dict[str, Any]] = []
    for raw, customer_id, error in firsts:
        if customer_id is None:
            items.append(_item(raw, "invalid", error))
        elif customer_id not in by_id:
            items.append(_item(raw, "not_found", not_found_message(customer_id)))
        else:
            items.append(_item(raw, "ok", None, by_id[customer_id]))
    return items


def _cached_scores(
    serving: Serving, found: list[OnlineFeatures], settings: Settings
) -> list[dict[str, Any]]:
    """score_rows, through the snapshot's result cache when one is configured."""
    cache = serving.cache
    if cache is None:
        return score_rows(serving, [r.features for r in found], settings)
    # every value is in the key: a corrected row re-materialized with the same as-of date
    # must not be answered from the cache
    keys = [(r.customer_id, r.as_of, tuple(r.features.values())) for r in found]
    scores: list[dict[str, Any] | None] = [cache.get(k) for k in keys]
    missing = [i for i, s in enumerate(scores) if s is None]
    if missing:
        fresh = score_rows(serving, [found[i].features for i in missing], settings)
        for i, score in zip(missing, fresh, strict=True):
            scores[i] = score
            cache.put(keys[i], score)
    return scores  # type: ignore[return-value]


def _item(
    customer_id: str, status: str, error: str | None, prediction: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"customer_id": customer_id, "status": status, "error": error, "prediction": prediction}


def json_bytes(payload: Any) -> bytes:
    """What FastAPI would send for the equivalent pydantic model, serialised once."""
    return to_json(payload)


def not_found_message(customer_id: str) -> str:
    return (
        f"customer {customer_id} is not in the online feature store "
        "(no purchase in the data, or features not materialized yet)"
    )


def score_features(serving: Serving, values: dict[str, Any], settings: Settings) -> Scores:
    (scores,) = score_rows(serving, [values], settings)
    return Scores(**scores)
