"""`python -m modeling.train`: build the training set from Feast, compare models, promote one.

Time-honest: models are fitted on the older as-of dates, calibrated and compared (and the
threshold chosen) on the next ones, and reported on the latest fully labelled as-of date,
which neither fitting nor choosing saw. The chosen model is promoted to models/current only
if it beats the recency baseline on that held-out date; otherwise the command says so and
exits with status 2.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from tqdm import tqdm

from feature_repo.store import open_store
from modeling.artifact import promote, save_artifact
from modeling.candidates import CANDIDATES
from modeling.dataset import LABEL, feature_spec, load_labels, split_by_as_of, training_frame
from modeling.evaluate import best_f1_threshold, probability_metrics, ranking_metrics
from modeling.preprocess import as_model_input, build_preprocessor
from modeling.settings import TrainSettings

log = logging.getLogger("modeling.train")

GATE_FAILED = 2
LIBRARIES = ("scikit-learn", "xgboost-cpu", "feast", "pandas", "numpy", "skops", "duckdb")


def _fingerprint(frame: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(frame, index=False).values
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def _git_commit() -> str | None:
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


def _versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return found


def run(settings: TrainSettings) -> int:
    started = time.perf_counter()
    store = open_store(data_dir=settings.feast_data_dir)
    spec = feature_spec(store)
    labels = load_labels(settings.labels_path)
    windows = labels["label_window_days"].unique().tolist()
    if windows != [settings.label_window_days]:
        raise SystemExit(
            f"labels were built with a {windows} day window but --label-window is "
            f"{settings.label_window_days}; rebuild with `dbt build --vars "
            f"'label_window_days: {settings.label_window_days}'`"
        )
    log.info("building the training set from Feast (%s labels)", f"{len(labels):,}")
    frame = training_frame(store, labels)
    train, valid, test = split_by_as_of(
        frame, settings.validation_dates, settings.label_window_days, settings.test_as_of
    )
    log.info(
        "train %s rows (%s → %s), validation %s rows, test %s rows (as of %s)",
        f"{len(train):,}",
        train["as_of_date"].min(),
        train["as_of_date"].max(),
        f"{len(valid):,}",
        f"{len(test):,}",
        test["as_of_date"].iloc[0],
    )
    x_train, x_valid, x_test = (as_model_input(part, spec) for part in (train, valid, test))
    y_train, y_valid, y_test = (part[LABEL].to_numpy() for part in (train, valid, test))

    results: dict[str, dict] = {}
    fitted = {}
    for key in tqdm(settings.models, desc="training models", unit="model"):
        candidate = CANDIDATES[key]
        t0 = time.perf_counter()
        preprocessor = build_preprocessor(spec, scale=candidate.scale)
        estimator = candidate.make(y_train, settings.seed)
        estimator.fit(preprocessor.fit_transform(x_train), y_train)
        raw_valid = estimator.predict_proba(preprocessor.transform(x_valid))[:, 1]
        calibrator = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        calibrator.fit(raw_valid, y_valid)
        proba_valid = calibrator.predict(raw_valid)
        threshold = best_f1_threshold(y_valid, proba_valid)
        proba_test = calibrator.predict(
            estimator.predict_proba(preprocessor.transform(x_test))[:, 1]
        )
        results[key] = {
            "name": candidate.name,
            "validation": probability_metrics(y_valid, proba_valid, threshold),
            "test": probability_metrics(y_test, proba_test, threshold),
            "fit_seconds": round(time.perf_counter() - t0, 2),
        }
        fitted[key] = (preprocessor, estimator, calibrator, threshold)
        log.info(
            "%s: validation %s %.4f, test ROC-AUC %.4f PR-AUC %.4f",
            candidate.name,
            settings.selection_metric,
            results[key]["validation"][settings.selection_metric],
            results[key]["test"]["roc_auc"],
            results[key]["test"]["pr_auc"],
        )

    baselines = {
        "recency": {
            "name": "Recency only (more recent = more likely)",
            "validation": ranking_metrics(y_valid, -valid["recency_days"].to_numpy(float)),
            "test": ranking_metrics(y_test, -test["recency_days"].to_numpy(float)),
        }
    }
    chosen = max(results, key=lambda k: results[k]["validation"][settings.selection_metric])
    metric = settings.selection_metric
    chosen_score = results[chosen]["test"][metric]
    baseline_score = baselines["recency"]["test"][metric]
    gate_passed = bool(chosen_score > baseline_score)

    version = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{chosen}"
    preprocessor, estimator, calibrator, threshold = fitted[chosen]
    metrics = {
        "selection_metric": metric,
        "chosen": chosen,
        "models": results,
        "baselines": baselines,
        "gate": {
            "rule": f"chosen model's test {metric} > recency baseline's",
            "chosen": chosen_score,
            "recency_baseline": baseline_score,
            "passed": gate_passed,
        },
    }
    metadata = {
        "version": version,
        "model": chosen,
        "model_name": CANDIDATES[chosen].name,
        "trained_at": datetime.now(UTC).isoformat(),
        "feature_service": spec.service,
        "features": [{"name": n, "type": t} for n, t in spec.types.items()],
        "label": LABEL,
        "label_window_days": settings.label_window_days,
        "as_of_range": {
            "train": [str(train["as_of_date"].min()), str(train["as_of_date"].max())],
            "validation": [str(valid["as_of_date"].min()), str(valid["as_of_date"].max())],
            "test": str(test["as_of_date"].iloc[0]),
        },
        "rows": {"train": len(train), "validation": len(valid), "test": len(test)},
        "threshold": threshold,
        "metrics": results[chosen]["test"],
        "seed": settings.seed,
        "data_fingerprint": _fingerprint(frame),
        "libraries": _versions(),
        "git_commit": _git_commit(),
    }
    directory = settings.models_dir / version
    save_artifact(
        directory,
        preprocessor=preprocessor,
        estimator=estimator,
        calibrator=calibrator,
        metadata=metadata,
    )
    (directory / "metrics.json").write_text(json.dumps(metrics, indent=2))
    elapsed = time.perf_counter() - started
    print(f"\nmodel comparison on the held-out as-of date {test['as_of_date'].iloc[0]}:")
    print(f"  {'model':<44} {'ROC-AUC':>8} {'PR-AUC':>8} {'F1':>6}")
    for key, r in results.items():
        mark = "*" if key == chosen else " "
        t = r["test"]
        print(f" {mark}{r['name']:<44} {t['roc_auc']:>8.4f} {t['pr_auc']:>8.4f} {t['f1']:>6.3f}")
    for b in baselines.values():
        t = b["test"]
        print(f"  {b['name']:<44} {t['roc_auc']:>8.4f} {t['pr_auc']:>8.4f} {'':>6}")
    if not gate_passed:
        print(
            f"\nNOT PROMOTED: {CANDIDATES[chosen].name} scored {metric} {chosen_score:.4f} on the "
            f"held-out date, not above the recency baseline's {baseline_score:.4f}. "
            f"The artifact is kept at {directory} for inspection; models/current is unchanged."
        )
        return GATE_FAILED
    promote(settings.models_dir, version)
    print(f"\npromoted {version} → {settings.models_dir / 'current'} ({elapsed:.1f} s)")
    return 0


def parse_args(argv: list[str] | None) -> TrainSettings:
    defaults = TrainSettings()
    parser = argparse.ArgumentParser(
        prog="python -m modeling.train",
        description="Train and compare Logistic Regression, Random Forest and XGBoost on the "
        "point-in-time training set from Feast, write models/<version>/ and promote the best "
        "to models/current if it beats the recency baseline.",
    )
    parser.add_argument(
        "--models",
        default=",".join(defaults.models),
        help="comma-separated models to compare: lr, rf, xgb (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed (%(default)s)")
    parser.add_argument(
        "--label-window",
        type=int,
        default=defaults.label_window_days,
        help="label window in days; must match dbt's label_window_days (%(default)s)",
    )
    parser.add_argument(
        "--metric",
        choices=["pr_auc", "roc_auc"],
        default=defaults.selection_metric,
        help="metric that chooses the model on validation (%(default)s)",
    )
    parser.add_argument(
        "--test-as-of",
        type=date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="backtest: report on this labelled as-of date, training only on what was known "
        "by then (default: the latest labelled date)",
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=defaults.models_dir,
        help="where models/<version>/ and models/current go (%(default)s)",
    )
    args = parser.parse_args(argv)
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    unknown = [m for m in models if m not in CANDIDATES]
    if unknown or not models:
        parser.error(f"unknown model(s) {unknown}; choose from {sorted(CANDIDATES)}")
    return replace(
        defaults,
        models=models,
        seed=args.seed,
        label_window_days=args.label_window,
        selection_metric=args.metric,
        test_as_of=args.test_as_of,
        models_dir=args.models_dir.resolve(),
    )


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("feast").setLevel(logging.WARNING)
    np.seterr(all="ignore")
    sys.exit(run(parse_args(argv)))


if __name__ == "__main__":
    main()
