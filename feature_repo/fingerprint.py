"""The FeatureService's fields as a fingerprint, so a model and the feature store can tell
whether they still agree.

Training stores `fingerprint(fields)` with the model (metadata.json, beside the field list it
was computed from); loading the model and `feast apply` compare it with the FeatureService as
registered now. A mismatch is reported as what changed (features added, removed, retyped,
reordered) and what to do about it (retrain), instead of a bare "does not match".

This module reads metadata.json as plain JSON and imports nothing from `modeling`, so the
feature repository can check the current model without depending on the training code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from feature_repo.contract import FEATURE_SERVICE

if TYPE_CHECKING:  # annotations only: importing feast costs ~8 CPU s in every scoring process
    from feast import FeatureStore

# the metadata.json key training writes the fingerprint under
METADATA_KEY = "feature_fingerprint"
RETRAIN = "retrain: python -m modeling.train"

Fields = Sequence[tuple[str, str]]  # (feature name, Feast dtype), in FeatureService order


def service_fields(store: FeatureStore, name: str = FEATURE_SERVICE) -> list[tuple[str, str]]:
    """(name, dtype) of every feature of the registered FeatureService, in its order."""
    service = store.get_feature_service(name, allow_cache=True)
    return [
        (field.name, str(field.dtype))
        for projection in service.feature_view_projections
        for field in projection.features
    ]


def fingerprint(fields: Fields) -> str:
    """sha256 of the ordered (name, dtype) list: any added, removed, retyped or moved
    feature changes it."""
    text = json.dumps([[name, dtype] for name, dtype in fields], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def describe_change(trained: Fields, current: Fields) -> str:
    """What differs between the fields a model was trained on and the current ones."""
    old, new = dict(trained), dict(current)
    parts = []
    added = [f"{n} ({t})" for n, t in current if n not in old]
    removed = [f"{n} ({t})" for n, t in trained if n not in new]
    retyped = [f"{n} {old[n]} → {t}" for n, t in current if n in old and old[n] != t]
    if added:
        parts.append(f"added {', '.join(added)}")
    if removed:
        parts.append(f"removed {', '.join(removed)}")
    if retyped:
        parts.append(f"retyped {', '.join(retyped)}")
    if not parts and [n for n, _ in trained] != [n for n, _ in current]:
        parts.append("the same features in another order")
    return "; ".join(parts) or "no difference in the fields"


def mismatch(metadata: dict, service: str, current: Fields) -> str | None:
    """Why a model (its metadata.json, parsed) cannot be served by `service` with fields
    `current`, or None when it can. Metadata without a fingerprint is refused too."""
    version = metadata.get("version", "?")
    stored = metadata.get(METADATA_KEY)
    trained = [(f["name"], f["type"]) for f in metadata.get("features", [])]
    if not isinstance(stored, str):
        return (
            f"model {version} has no feature fingerprint (trained before they existed); {RETRAIN}"
        )
    if stored != fingerprint(trained):
        return f"model {version}: its feature list does not match its fingerprint; {RETRAIN}"
    if metadata.get("feature_service") != service:
        return (
            f"model {version} was trained on the feature service "
            f"{metadata.get('feature_service')}, not {service}; {RETRAIN}"
        )
    if stored != fingerprint(current):
        return (
            f"model {version} does not match the feature service {service} as applied now: "
            f"{describe_change(trained, current)}; {RETRAIN}"
        )
    return None


def check_current_model(store: FeatureStore, models_dir: Path) -> str | None:
    """After `feast apply`: why models_dir/current cannot serve the store's FeatureService
    (a message saying what changed and to retrain), or None when it can or there is none."""
    path = Path(models_dir) / "current" / "metadata.json"
    if not path.exists():
        return None
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"models/current/metadata.json cannot be read; {RETRAIN}"
    if not isinstance(metadata, dict):
        return f"models/current/metadata.json is not an object; {RETRAIN}"
    try:
        return mismatch(metadata, FEATURE_SERVICE, service_fields(store))
    except (AttributeError, KeyError, TypeError):  # a features entry that is not {name, type}
        return f"models/current/metadata.json has a malformed feature list; {RETRAIN}"
