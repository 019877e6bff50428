"""Save and load the model artifact that serving uses.

models/<version>/ holds the fitted preprocessor and calibrator (skops), the estimator (XGBoost
UBJ, or skops for scikit-learn) and metadata.json. Nothing is unpickled: skops loads only
types on an allow-list, and XGBoost reads its own format. `models/current` is a symlink
switched atomically, so a reader sees the old model or the new one, never half of either.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import skops.io as sio
from xgboost import XGBClassifier

from modeling.dataset import FeatureSpec
from modeling.preprocess import as_model_input

# Types skops may rebuild: scikit-learn estimators and the numpy/scipy values inside them.
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


class ArtifactError(RuntimeError):
    """The artifact is missing, damaged, unsafe, or does not fit the feature service."""


def _save_skops(obj: object, path: Path) -> None:
    sio.dump(obj, path)


def _load_skops(path: Path) -> Any:
    untrusted = sio.get_untrusted_types(file=path)
    unsafe = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if unsafe:
        raise ArtifactError(f"{path.name} contains types outside the allow-list: {unsafe}")
    return sio.load(path, trusted=untrusted)


def save_artifact(
    directory: Path,
    *,
    preprocessor: object,
    estimator: object,
    calibrator: object,
    metadata: dict[str, Any],
) -> None:
    directory.mkdir(parents=True, exist_ok=False)
    _save_skops(preprocessor, directory / "preprocessor.skops")
    _save_skops(calibrator, directory / "calibrator.skops")
    if isinstance(estimator, XGBClassifier):
        estimator.save_model(directory / "estimator.ubj")
    else:
        _save_skops(estimator, directory / "estimator.skops")
    (directory / "metadata.json").write_text(json.dumps(metadata, indent=2, default=str))


def promote(models_dir: Path, version: str) -> None:
    """Point models/current at models/<version>, atomically (symlink + rename)."""
    link = models_dir / "current"
    tmp = models_dir / f".current.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(version)
    os.replace(tmp, link)


@dataclass
class LoadedModel:
    directory: Path
    metadata: dict[str, Any]
    spec: FeatureSpec
    preprocessor: Any
    estimator: Any
    calibrator: Any

    @property
    def version(self) -> str:
        return self.metadata["version"]

    @property
    def threshold(self) -> float:
        return float(self.metadata["threshold"])

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        return self.preprocessor.transform(as_model_input(frame, self.spec))

    def raw_score(self, frame: pd.DataFrame) -> np.ndarray:
        """The estimator's own probability, before calibration."""
        return self.estimator.predict_proba(self.matrix(frame))[:, 1]

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of a purchase in the label window, one per row."""
        return np.clip(self.calibrator.predict(self.raw_score(frame)), 0.0, 1.0)


def _spec_from_metadata(metadata: dict[str, Any]) -> FeatureSpec:
    features = metadata["features"]
    types = {f["name"]: f["type"] for f in features}
    return FeatureSpec(
        service=metadata["feature_service"],
        numeric=tuple(f["name"] for f in features if f["type"] != "String"),
        categorical=tuple(f["name"] for f in features if f["type"] == "String"),
        types=types,
    )


def load_model(directory: Path, expected: FeatureSpec | None = None) -> LoadedModel:
    """Load models/<version> (or models/current); refuse anything damaged or mismatched."""
    directory = Path(directory)
    try:
        metadata = json.loads((directory / "metadata.json").read_text())
        spec = _spec_from_metadata(metadata)
        if expected is not None and (
            spec.service != expected.service or spec.types != expected.types
        ):
            raise ArtifactError(
                f"model {metadata.get('version')} was trained on {spec.service} with "
                f"{len(spec.types)} features, which does not match the feature service "
                f"{expected.service} ({len(expected.types)} features)"
            )
        preprocessor = _load_skops(directory / "preprocessor.skops")
        calibrator = _load_skops(directory / "calibrator.skops")
        if (directory / "estimator.ubj").exists():
            estimator = XGBClassifier()
            estimator.load_model(directory / "estimator.ubj")
        else:
            estimator = _load_skops(directory / "estimator.skops")
    except ArtifactError:
        raise
    except Exception as exc:  # any damage: missing file, bad JSON, truncated model
        raise ArtifactError(f"cannot load model from {directory}: {exc}") from exc
    return LoadedModel(directory, metadata, spec, preprocessor, estimator, calibrator)
