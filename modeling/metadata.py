"""Step 6 of a training run: metadata.json, what a promoted model says about itself.

Serving reads the version, the FeatureService and its fields (save_artifact adds their
fingerprint, so a changed service is caught at load), the threshold and the label window;
people read where it came from: the dates and rows it saw (and the label rows sampled before
the join, per date), its test metrics, the seed, a fingerprint of the training frame, library
versions and the git commit.

It also describes the model's scores on validation data: `base_rate`, the mean calibrated
probability (what the answer for a typical customer is; reasons are movements from it), and
`score_quantiles`, its 101 percentiles (how the API turns a capacity, "the top N %", into a
probability cut-off: modeling.decision).
"""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
import pandas as pd

from modeling.candidates import raw_proba
from modeling.dataset import LABEL
from modeling.fitting import FittedModel
from modeling.training_set import TrainingSet

LIBRARIES = ("scikit-learn", "xgboost-cpu", "feast", "pandas", "numpy", "skops", "duckdb")


def data_fingerprint(frame: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(frame, index=False).values
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def library_versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return found


def score_summary(model: FittedModel, x_valid: pd.DataFrame) -> dict:
    """base_rate and score_quantiles of the model's calibrated scores on `x_valid`."""
    proba = model.calibrator.predict(raw_proba(model.preprocessor, model.estimator, x_valid))
    proba = np.asarray(proba, dtype=np.float64)
    return {
        "base_rate": round(float(proba.mean()), 6),
        "score_quantiles": [round(float(q), 6) for q in np.quantile(proba, np.linspace(0, 1, 101))],
    }


def model_metadata(
    version: str, model: FittedModel, data: TrainingSet, window: int, seed: int
) -> dict:
    spec, train, valid = data.spec, data.train, data.valid
    return {
        "version": version,
        "model": model.key,
        "model_name": model.name,
        "trained_at": datetime.now(UTC).isoformat(),
        "feature_service": spec.service,
        "features": [{"name": n, "type": t} for n, t in spec.types.items()],
        "label": LABEL,
        "label_window_days": window,
        "as_of_range": {
            "train": [str(train["as_of_date"].min()), str(train["as_of_date"].max())],
            "validation": [str(valid["as_of_date"].min()), str(valid["as_of_date"].max())],
            "test": str(data.test_date),
        },
        "rows": {
            "train": len(train),
            "train_fitted": len(data.fit_rows),
            "validation": len(valid),
            "test": len(data.test),
        },
        "threshold": model.threshold,
        **score_summary(model, data.x_valid),
        "metrics": model.entry["test"],
        "seed": seed,
        # which label rows were joined: per part and as-of date, before and after sampling
        "sampling": data.sampling.as_dict() if data.sampling else None,
        "data_fingerprint": data_fingerprint(data.frame),
        "libraries": library_versions(),
        "git_commit": git_commit(),
    }
