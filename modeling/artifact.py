"""Save and load the model artifact that serving uses. A file on disk is data, never code.

models/<version>/ holds the fitted preprocessor and calibrator (skops), the estimator (XGBoost
UBJ, or skops for scikit-learn) and metadata.json. Loading trusts nothing it reads:

- metadata.json lists the sha256 of every model file. A file that differs, is missing, or is
  a model file nobody listed is refused, and the bytes that were hashed are the bytes loaded.
  (That catches damage and mix-ups; it is not a signature, whoever writes metadata.json can
  rehash. What makes a hostile file harmless is the next point.)
- A skops file is a tree of typed nodes that skops rebuilds. Every node is read before
  anything is built, and only the (loader, type) pairs the trainer writes are accepted: an
  explicit list, no prefixes, no functions. skops' own default trust is far wider (every
  scikit-learn estimator, FunctionTransformer included, which calls whatever function it
  holds: a preprocessor could make the first prediction `exec` its own text).
- Everything serving reads from metadata.json is validated (strict JSON, no NaN; version,
  dates, feature list, threshold a number in (0, 1)), and the rebuilt objects are checked for
  what they must be (a ColumnTransformer fitted on the feature list, an estimator as wide as
  its output, an isotonic calibrator into [0, 1]).

Error messages name files and versions, never absolute paths or library internals: they
reach API clients (409 on a refused reload); the chained exception keeps the details.

The feature list carries a fingerprint (feature_repo/fingerprint.py); given the FeatureService
as registered now, a model trained on other fields is refused with what changed (added,
removed, retyped features) and "retrain: python -m modeling.train", and so is a model with
no fingerprint (trained before it existed).

`models/current` is a symlink switched atomically, so a reader sees the old model or the new
one, never half of either.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import zipfile
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.isotonic import IsotonicRegression
from xgboost import XGBClassifier

from feature_repo import fingerprint
from modeling.feature_spec import FeatureSpec
from modeling.jsonsafe import strict_json
from modeling.preprocess import as_model_input

PREPROCESSOR, CALIBRATOR = "preprocessor.skops", "calibrator.skops"
XGBOOST, SKLEARN_ESTIMATOR = "estimator.ubj", "estimator.skops"
MODEL_SUFFIXES = (".skops", ".ubj", ".pkl", ".pickle", ".joblib")

# Every skops node the trainer writes, as (loader, type), for each model it can promote
# (lr, rf, xgb: tests/modeling/test_artifact_safety.py trains each and checks this list
# covers it). Nothing callable beyond these classes: no FunctionNode, no builtins but
# containers and str, no FunctionTransformer (modeling.preprocess passes numbers through
# with an identity StandardScaler for that reason).
SKOPS_NODES = frozenset(
    {
        ("ObjectNode", "sklearn.compose._column_transformer.ColumnTransformer"),
        ("ObjectNode", "sklearn.pipeline.Pipeline"),
        ("ObjectNode", "sklearn.impute._base.SimpleImputer"),
        ("ObjectNode", "sklearn.impute._base.MissingIndicator"),
        ("ObjectNode", "sklearn.preprocessing._data.StandardScaler"),
        ("ObjectNode", "sklearn.preprocessing._encoders.OneHotEncoder"),
        ("ObjectNode", "sklearn.linear_model._logistic.LogisticRegression"),
        ("ObjectNode", "sklearn.ensemble._forest.RandomForestClassifier"),
        ("ObjectNode", "sklearn.tree._classes.DecisionTreeClassifier"),
        ("TreeNode", "sklearn.tree._tree.Tree"),
        ("ObjectNode", "sklearn.isotonic.IsotonicRegression"),
        ("DictNode", "builtins.dict"),
        ("ListNode", "builtins.list"),
        ("TupleNode", "builtins.tuple"),
        ("SliceNode", "builtins.slice"),
        ("JsonNode", "builtins.str"),
        ("TypeNode", "builtins.str"),
        ("TypeNode", "numpy.float64"),
        ("DTypeNode", "numpy.dtype"),
        ("NdArrayNode", "numpy.ndarray"),
        ("NdArrayNode", "numpy.float64"),
        ("NdArrayNode", "numpy.int64"),
    }
)

# What the root of each skops file must be, so a valid object in the wrong file is refused.
ROOTS = {
    PREPROCESSOR: {"sklearn.compose._column_transformer.ColumnTransformer"},
    CALIBRATOR: {"sklearn.isotonic.IsotonicRegression"},
    SKLEARN_ESTIMATOR: {
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.ensemble._forest.RandomForestClassifier",
    },
}


class ArtifactError(RuntimeError):
    """The artifact is missing, damaged, unsafe, or does not fit the feature service.

    The message is plain (file names, versions; no paths, no library traces): it is what a
    client is told. The cause, chained, has the details for the log.
    """


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---- writing ------------------------------------------------------------------------------


def save_artifact(
    directory: Path,
    *,
    preprocessor: object,
    estimator: object,
    calibrator: object,
    metadata: dict[str, Any],
) -> None:
    """Write the model files, then metadata.json with the sha256 of each of them and the
    fingerprint of its feature list (what load_model compares with the FeatureService)."""
    directory.mkdir(parents=True, exist_ok=False)
    sio.dump(preprocessor, directory / PREPROCESSOR)
    sio.dump(calibrator, directory / CALIBRATOR)
    if isinstance(estimator, XGBClassifier):
        estimator.save_model(directory / XGBOOST)  # with the classifier's own attributes
    else:
        sio.dump(estimator, directory / SKLEARN_ESTIMATOR)
    written = [PREPROCESSOR, CALIBRATOR, XGBOOST, SKLEARN_ESTIMATOR]
    hashes = {n: sha256((directory / n).read_bytes()) for n in written if (directory / n).exists()}
    text = json.dumps(
        strict_json(
            {
                **metadata,
                fingerprint.METADATA_KEY: fingerprint.fingerprint(
                    [(f["name"], f["type"]) for f in metadata["features"]]
                ),
                "artifact_sha256": hashes,
            }
        ),
        indent=2,
        default=str,
        allow_nan=False,
    )
    (directory / "metadata.json").write_text(text)


def promote(models_dir: Path, version: str) -> None:
    """Point models/current at models/<version>, atomically (symlink + rename).

    Only the switch: whether a version may be promoted is decided by the trainer
    (modeling.train: recency gate, then champion / challenger) and by modeling.rollback, which
    both record the switch in models/promotions.jsonl (modeling.promotions)."""
    link = models_dir / "current"
    tmp = models_dir / f".current.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(version)
    os.replace(tmp, link)


# ---- the loaded model ---------------------------------------------------------------------


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


# ---- metadata.json ------------------------------------------------------------------------


def _no_constants(token: str) -> None:
    raise ValueError(f"{token} is not JSON")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ArtifactError(f"metadata.json: {message}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _read_metadata(directory: Path) -> dict[str, Any]:
    """metadata.json, parsed strictly and checked for every field serving reads."""
    try:
        text = (directory / "metadata.json").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"model {directory.name}: metadata.json cannot be read") from exc
    try:
        meta = json.loads(text, parse_constant=_no_constants)
    except ValueError as exc:
        raise ArtifactError(f"model {directory.name}: metadata.json is not valid JSON") from exc
    _require(isinstance(meta, dict), "not an object")
    version = meta.get("version")
    _require(
        isinstance(version, str) and 0 < len(version) <= 200 and version.isprintable(),
        "version must be a short printable string",
    )
    try:
        datetime.fromisoformat(meta.get("trained_at"))
    except (TypeError, ValueError) as exc:
        raise ArtifactError("metadata.json: trained_at must be an ISO date-time") from exc
    threshold = meta.get("threshold")
    _require(
        _is_number(threshold) and math.isfinite(threshold) and 0 < threshold < 1,
        "threshold must be a number strictly between 0 and 1",
    )
    _require(isinstance(meta.get("feature_service"), str), "feature_service must be a string")
    features = meta.get("features")
    _require(
        isinstance(features, list)
        and len(features) > 0
        and all(
            isinstance(f, dict)
            and isinstance(f.get("name"), str)
            and isinstance(f.get("type"), str)
            for f in features
        )
        and len({f["name"] for f in features}) == len(features),
        "features must be a non-empty list of distinct {name, type}",
    )
    for key, kind in (("model", str), ("as_of_range", dict), ("metrics", dict)):
        _require(isinstance(meta.get(key, kind()), kind), f"{key} must be a {kind.__name__}")
    _require(
        meta.get("model_name") is None or isinstance(meta["model_name"], str),
        "model_name must be a string",
    )
    window = meta.get("label_window_days")
    _require(
        window is None or (isinstance(window, int) and not isinstance(window, bool)),
        "label_window_days must be an integer",
    )
    stored = meta.get(fingerprint.METADATA_KEY)
    trained = [(f["name"], f["type"]) for f in features]
    _require(
        isinstance(stored, str),
        f"{fingerprint.METADATA_KEY} (of the feature service's fields) is missing: the model "
        f"predates it; {fingerprint.RETRAIN}",
    )
    _require(
        stored == fingerprint.fingerprint(trained),
        f"the feature list does not match its {fingerprint.METADATA_KEY}; {fingerprint.RETRAIN}",
    )
    hashes = meta.get("artifact_sha256")
    _require(
        isinstance(hashes, dict)
        and all(isinstance(v, str) and len(v) == 64 for v in hashes.values()),
        "artifact_sha256 (the hash of every model file) is missing; retrain the model",
    )
    return meta


def _spec_from_metadata(metadata: dict[str, Any]) -> FeatureSpec:
    features = metadata["features"]
    types = {f["name"]: f["type"] for f in features}
    return FeatureSpec(
        service=metadata["feature_service"],
        numeric=tuple(f["name"] for f in features if f["type"] != "String"),
        categorical=tuple(f["name"] for f in features if f["type"] == "String"),
        types=types,
    )


# ---- model files --------------------------------------------------------------------------


def _verified_files(directory: Path, hashes: dict[str, str]) -> dict[str, bytes]:
    """Each listed model file's bytes, checked against its sha256; nothing else may be there."""
    listed = set(hashes)
    estimators = listed & {XGBOOST, SKLEARN_ESTIMATOR}
    if not listed <= {PREPROCESSOR, CALIBRATOR, XGBOOST, SKLEARN_ESTIMATOR}:
        raise ArtifactError(f"metadata.json lists unknown files: {sorted(listed)}")
    if not {PREPROCESSOR, CALIBRATOR} <= listed or len(estimators) != 1:
        raise ArtifactError("metadata.json must list a preprocessor, a calibrator, one estimator")
    present = {p.name for p in directory.iterdir() if p.name.endswith(MODEL_SUFFIXES)}
    extra = sorted(present - listed)
    if extra:
        raise ArtifactError(f"model files not listed in metadata.json: {extra}")
    files = {}
    for name in sorted(listed):
        try:
            data = (directory / name).read_bytes()
        except OSError as exc:
            raise ArtifactError(f"{name} is missing or unreadable") from exc
        if sha256(data) != hashes[name]:
            raise ArtifactError(f"{name} does not match its sha256 in metadata.json")
        files[name] = data
    return files


def _skops_nodes(tree: Any, found: set[tuple[str, str]]) -> None:
    """Every (loader, module.class) in a skops schema: any dict naming a loader or a class."""
    if isinstance(tree, dict):
        if {"__loader__", "__class__", "__module__"} & tree.keys():
            loader, module, name = (tree.get(k) for k in ("__loader__", "__module__", "__class__"))
            found.add((str(loader), f"{module}.{name}"))
        for value in tree.values():
            _skops_nodes(value, found)
    elif isinstance(tree, list):
        for value in tree:
            _skops_nodes(value, found)


def _load_skops(name: str, data: bytes) -> Any:
    """Rebuild a skops file only if every node in it is one the trainer writes."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            names = archive.namelist()
            if len(names) != len(set(names)):
                raise ValueError("duplicate entries")
            schema = json.loads(archive.read("schema.json"), parse_constant=_no_constants)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ArtifactError(f"{name} is not a readable skops file") from exc
    found: set[tuple[str, str]] = set()
    _skops_nodes(schema, found)
    unknown = sorted(found - SKOPS_NODES)
    if unknown:
        types = sorted({t for _, t in unknown})
        raise ArtifactError(f"{name} holds types the trainer never writes, refused: {types}")
    root = f"{schema.get('__module__')}.{schema.get('__class__')}"
    if root not in ROOTS[name]:
        raise ArtifactError(f"{name} holds a {root}, not a {' or '.join(sorted(ROOTS[name]))}")
    try:
        return sio.loads(data, trusted=sorted({t for _, t in found}))
    except Exception as exc:  # a listed type with a damaged state
        raise ArtifactError(f"{name} cannot be rebuilt") from exc


def _load_xgboost(data: bytes) -> XGBClassifier:
    estimator = XGBClassifier()
    try:
        estimator.load_model(bytearray(data))
    except Exception as exc:  # XGBoostError carries a C++ trace: for the log only
        raise ArtifactError(f"{XGBOOST} is not a readable XGBoost model") from exc
    return estimator


def _check_objects(spec: FeatureSpec, preprocessor: Any, estimator: Any, calibrator: Any) -> None:
    """The rebuilt objects fit together and fit the metadata's feature list."""
    if not isinstance(preprocessor, ColumnTransformer) or not hasattr(
        preprocessor, "n_features_in_"
    ):
        raise ArtifactError(f"{PREPROCESSOR} is not a fitted ColumnTransformer")
    inputs = list(getattr(preprocessor, "feature_names_in_", []))
    if inputs != [*spec.numeric, *spec.categorical]:
        raise ArtifactError(f"{PREPROCESSOR} was fitted on other columns than metadata.json lists")
    width = sum(s.stop - s.start for s in preprocessor.output_indices_.values())
    if getattr(estimator, "n_features_in_", None) != width:
        raise ArtifactError(f"the estimator does not take the preprocessor's {width} columns")
    if list(getattr(estimator, "classes_", [])) != [0, 1]:
        raise ArtifactError("the estimator is not a binary classifier of 0/1")
    if not isinstance(calibrator, IsotonicRegression) or calibrator.out_of_bounds != "clip":
        raise ArtifactError(f"{CALIBRATOR} is not a clipping IsotonicRegression")
    knots_x = np.asarray(getattr(calibrator, "X_thresholds_", []), dtype=float)
    knots_y = np.asarray(getattr(calibrator, "y_thresholds_", []), dtype=float)
    if (
        knots_x.size == 0
        or knots_x.shape != knots_y.shape
        or not (np.isfinite(knots_x).all() and np.isfinite(knots_y).all())
        or knots_y.min() < 0
        or knots_y.max() > 1
    ):
        raise ArtifactError(f"{CALIBRATOR} does not map scores into [0, 1]")


def load_model(directory: Path, expected: FeatureSpec | None = None) -> LoadedModel:
    """Load models/<version> (or models/current); refuse anything damaged, unsafe or
    mismatched, with an ArtifactError whose message a client may see."""
    directory = Path(directory)
    metadata = _read_metadata(directory)
    spec = _spec_from_metadata(metadata)
    if expected is not None:
        problem = fingerprint.mismatch(metadata, expected.service, list(expected.types.items()))
        if problem:
            raise ArtifactError(problem)
    files = _verified_files(directory, metadata["artifact_sha256"])
    preprocessor = _load_skops(PREPROCESSOR, files[PREPROCESSOR])
    calibrator = _load_skops(CALIBRATOR, files[CALIBRATOR])
    if XGBOOST in files:
        estimator = _load_xgboost(files[XGBOOST])
    else:
        estimator = _load_skops(SKLEARN_ESTIMATOR, files[SKLEARN_ESTIMATOR])
    _check_objects(spec, preprocessor, estimator, calibrator)
    return LoadedModel(directory, metadata, spec, preprocessor, estimator, calibrator)
