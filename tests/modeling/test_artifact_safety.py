"""A model file is data, never code (modeling.artifact).

Every model the trainer can promote (LR, RF, XGBoost, with their preprocessor and calibrator)
is written by save_artifact from real training rows and must load under the explicit node
list, which must hold nothing else. A crafted skops pipeline that runs Python when it
transforms is refused before any of it runs, even with a correct sha256; the sha256 list
refuses changed, missing, unlisted and misplaced files.
"""

from __future__ import annotations

import builtins
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from modeling import candidates
from modeling.artifact import (
    SKOPS_NODES,
    ArtifactError,
    _skops_nodes,
    load_model,
    save_artifact,
    sha256,
)
from modeling.dataset import LABEL, feature_spec
from modeling.preprocess import as_model_input

NEVER = {"exec", "eval", "open", "getattr", "__import__", "compile", "FunctionTransformer"}


def crafted_pipeline(marker: Path) -> Pipeline:
    """The issue's payload: fills the input with Python source, flattens it, takes one
    element and exec()s it. The source writes `marker`."""
    source = f"open({str(marker)!r}, 'w').write('ran')"
    fill = FunctionTransformer(np.full_like, kw_args={"fill_value": source, "dtype": object})
    return Pipeline(
        [
            ("fill", fill),
            ("flat", FunctionTransformer(np.ravel)),
            ("one", FunctionTransformer(builtins.max)),
            ("run", FunctionTransformer(builtins.exec)),
        ]
    )


def plant(directory: Path, name: str, data: bytes) -> None:
    """Write a model file AND its correct sha256 into metadata.json: the hash is no defence."""
    (directory / name).write_bytes(data)
    meta = json.loads((directory / "metadata.json").read_text())
    meta.setdefault("artifact_sha256", {})[name] = sha256(data)
    (directory / "metadata.json").write_text(json.dumps(meta))


def nodes(path: Path) -> set[tuple[str, str]]:
    with zipfile.ZipFile(path) as archive:
        found: set[tuple[str, str]] = set()
        _skops_nodes(json.loads(archive.read("schema.json")), found)
    return found


@pytest.fixture(scope="module")
def written(warehouse, feature_store, tmp_path_factory) -> dict[str, Path]:
    """models/<key>/ written by save_artifact for every candidate, fitted on real rows."""
    features = pd.read_parquet(warehouse.features_dir / "customer_features.parquet")
    labels = pd.read_parquet(warehouse.features_dir / "customer_labels.parquet")
    rows = labels.merge(features, on=["customer_id", "as_of_date"]).sample(4000, random_state=0)
    spec = feature_spec(feature_store)
    x, y = as_model_input(rows, spec), rows[LABEL].to_numpy()
    root = tmp_path_factory.mktemp("artifacts")
    out = {}
    for key in candidates.CANDIDATES:
        preprocessor, estimator = candidates.fit(key, spec, x, y, seed=0)
        raw = candidates.raw_proba(preprocessor, estimator, x)
        meta = {
            "version": key,
            "trained_at": "2024-05-01T00:00:00+00:00",
            "feature_service": spec.service,
            "features": [{"name": n, "type": t} for n, t in spec.types.items()],
            "threshold": 0.4,
            "metrics": {"roc_auc": float("nan")},  # a metric training could not compute
        }
        out[key] = root / key
        save_artifact(
            out[key],
            preprocessor=preprocessor,
            estimator=estimator,
            calibrator=candidates.fit_calibrator(raw, y),
            metadata=meta,
        )
    return out


@pytest.mark.parametrize("key", sorted(candidates.CANDIDATES))
def test_what_the_trainer_writes_is_hashed_and_loads(written, feature_store, key):
    directory = written[key]
    meta = json.loads((directory / "metadata.json").read_text(), parse_constant=pytest.fail)
    assert meta["metrics"]["roc_auc"] is None  # strict JSON: NaN written as null
    model_files = {p.name for p in directory.iterdir() if p.name != "metadata.json"}
    assert set(meta["artifact_sha256"]) == model_files
    for name, digest in meta["artifact_sha256"].items():
        assert sha256((directory / name).read_bytes()) == digest
    model = load_model(directory, expected=feature_spec(feature_store))
    assert 0 < model.predict_proba(pd.DataFrame([dict.fromkeys(model.spec.names)]))[0] < 1
    for path in directory.glob("*.skops"):  # skops' own view agrees with the explicit list
        assert set(sio.get_untrusted_types(file=path)) <= {t for _, t in SKOPS_NODES}


def test_the_node_list_is_exactly_what_training_writes(written):
    used = set().union(*(nodes(p) for d in written.values() for p in d.glob("*.skops")))
    assert used == SKOPS_NODES
    names = {t.rsplit(".", 1)[-1] for _, t in SKOPS_NODES}
    assert not names & NEVER
    assert not {loader for loader, _ in SKOPS_NODES} & {"FunctionNode", "MethodNode"}


def test_crafted_pipeline_is_refused_before_any_of_its_code_runs(written, tmp_path):
    live = tmp_path / "payload-is-live"
    crafted_pipeline(live).transform(np.zeros((1, 2)))
    assert live.read_text() == "ran"  # the payload really runs code when it transforms

    marker = tmp_path / "marker"
    directory = tmp_path / "model"
    shutil.copytree(written["xgb"], directory)
    sio.dump(crafted_pipeline(marker), tmp_path / "crafted.skops")
    plant(directory, "preprocessor.skops", (tmp_path / "crafted.skops").read_bytes())
    with pytest.raises(ArtifactError, match="never writes") as refused:
        load_model(directory)
    assert "exec" in str(refused.value) and str(tmp_path) not in str(refused.value)
    assert not marker.exists()


def test_a_function_transformer_is_refused_even_without_functions(written, tmp_path):
    """FunctionTransformer(func=None) holds no function, but skops trusts the class by default
    and its func could be any callable: the trainer never writes one, so it is refused."""
    directory = tmp_path / "model"
    shutil.copytree(written["xgb"], directory)
    plant(directory, "calibrator.skops", sio.dumps(FunctionTransformer()))
    with pytest.raises(ArtifactError, match="FunctionTransformer"):
        load_model(directory)


def test_a_valid_object_in_the_wrong_file_is_refused(written, tmp_path):
    directory = tmp_path / "model"
    shutil.copytree(written["lr"], directory)
    plant(directory, "calibrator.skops", (directory / "preprocessor.skops").read_bytes())
    with pytest.raises(ArtifactError, match=r"calibrator\.skops holds a .*ColumnTransformer"):
        load_model(directory)


def _metadata(directory: Path, change) -> None:
    meta = json.loads((directory / "metadata.json").read_text())
    change(meta)
    (directory / "metadata.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "calibrator.skops").write_bytes(b"PK" + bytes(100)), "sha256"),
        (lambda d: (d / "estimator.ubj").unlink(), "estimator.ubj is missing"),
        (lambda d: shutil.copy(d / "preprocessor.skops", d / "extra.skops"), "not listed"),
        (lambda d: _metadata(d, lambda m: m.pop("artifact_sha256")), "retrain"),
        (
            lambda d: _metadata(d, lambda m: m["artifact_sha256"].update({"../x.skops": "0" * 64})),
            "unknown files",
        ),
        (lambda d: (d / "metadata.json").write_text('{"threshold": NaN}'), "not valid JSON"),
    ],
    ids=["changed", "missing", "unlisted", "no-hashes", "unknown-name", "bare-nan"],
)
def test_files_that_do_not_match_metadata_are_refused(written, tmp_path, damage, message):
    directory = tmp_path / "model"
    shutil.copytree(written["xgb"], directory)
    damage(directory)
    with pytest.raises(ArtifactError, match=message) as refused:
        load_model(directory)
    assert str(tmp_path) not in str(refused.value)
