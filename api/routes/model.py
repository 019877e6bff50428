"""The model card of the model being served."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServingDep, SettingsDep
from api.schemas import DecisionRuleCard, ModelCard, Promotion
from api.scoring import base_rate_for, rule_for
from modeling import promotions
from modeling.explain import method_for

router = APIRouter(prefix="/model", tags=["model"])


@router.get("")
def model_card(serving: ServingDep, settings: SettingsDep) -> ModelCard:
    """Version, training dates, held-out metrics, threshold, feature list, the decision rule
    (tier, verdict and action from the probability), the base rate of the model, and why it
    serves (its latest entry in models/promotions.jsonl: promoted over whom, on which figures,
    or rolled back to)."""
    meta = serving.model.metadata
    # the folder is the version the history names (serving resolved models/current once)
    entry = promotions.latest_for(settings.models_dir, serving.model.directory.name)
    return ModelCard(
        version=meta["version"],
        model=meta.get("model", "unknown"),
        model_name=meta.get("model_name"),
        trained_at=meta["trained_at"],
        feature_service=meta["feature_service"],
        label_window_days=meta.get("label_window_days"),
        as_of_range=meta.get("as_of_range", {}),
        threshold=round(serving.model.threshold, 6),
        metrics=meta.get("metrics", {}),
        features=meta["features"],
        explanation_method=method_for(serving.model.estimator),
        decision_rule=DecisionRuleCard(**rule_for(serving.model, settings).as_dict()),
        base_rate=base_rate_for(serving.model),
        promotion=Promotion(**entry) if entry else None,
    )
