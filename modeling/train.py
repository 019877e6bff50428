"""`python -m modeling.train`: build the training set from Feast, compare models, promote one.

Time-honest: models are fitted on the older as-of dates, calibrated (and the threshold chosen)
on the next ones, and reported on the latest fully labelled as-of date, which neither fitting
nor choosing saw. The model is chosen by its mean score over expanding-window cross-validation
folds by as-of date (several later dates judge better than one), or on the validation date
alone with --choose-on validation. Two baselines stand beside the models: recency, and BG/NBD
fitted on the same training rows. models/<version>/ gets the artifact, metrics.json and
report.html. The chosen model is promoted to models/current only
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
import warnings
from dataclasses import replace
from datetime import UTC, date, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from feature_repo.store import open_store
from ingest.dbt_vars import label_window_days
from modeling import candidates
from modeling.artifact import promote, save_artifact
from modeling.bgnbd import BGNBD
from modeling.candidates import CANDIDATES, fit_calibrator, raw_proba
from modeling.crossval import cross_validate
from modeling.dataset import (
    LABEL,
    at_most,
    feature_spec,
    load_labels,
    split_by_as_of,
    training_frame,
)
from modeling.evaluate import (
    best_f1_threshold,
    probability_metrics,
    ranking_metrics,
    slice_metrics,
)
from modeling.explain import column_owners
from modeling.preprocess import as_model_input
from modeling.report import ReportData, write_report
from modeling.settings import TrainSettings, default_ground_truth

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


def _oracle(path: Path | None, test: pd.DataFrame, window: int) -> dict | None:
    """The generator's true probability scored on the test rows, when it covers them all (the
    generator computes it over dbt's label window, so a training run on another window has none)."""
    if path is None or not Path(path).exists() or window != label_window_days():
        return None
    truth = pd.read_parquet(path, columns=["customer_id", "as_of_date", "p_repeat_30d"])
    truth["as_of_date"] = pd.to_datetime(truth["as_of_date"]).dt.date
    merged = test[["customer_id", "as_of_date", LABEL]].merge(
        truth, on=["customer_id", "as_of_date"], how="left"
    )
    if len(merged) != len(test) or merged["p_repeat_30d"].isna().any():
        log.warning("ground truth %s does not cover the test rows: no oracle", path)
        return None
    y, p = merged[LABEL].to_numpy(), merged["p_repeat_30d"].to_numpy(float)
    return {
        "name": "Oracle (the generator's true probability)",
        "source": str(path),
        "test": {
            **ranking_metrics(y, p),
            "brier": float(np.mean((p - y) ** 2)),
            "rows": len(y),
        },
        "scores": p,
    }


def _native_importance(preprocessor, estimator, spec) -> pd.Series:
    """The estimator's own importance summed back to the original features, as shares."""
    if hasattr(estimator, "feature_importances_"):
        values = np.asarray(estimator.feature_importances_, dtype=float)
    else:  # linear: |coefficient| of standardised inputs
        values = np.abs(np.asarray(estimator.coef_[0], dtype=float))
    per_feature = pd.Series(values, index=column_owners(preprocessor)).groupby(level=0).sum()
    per_feature = per_feature.reindex(list(spec.names), fill_value=0.0)
    total = per_feature.sum()
    return per_feature / total if total > 0 else per_feature


def _permutation_importance(
    preprocessor, estimator, x: pd.DataFrame, y: np.ndarray, rows: int, seed: int
) -> pd.DataFrame:
    """Drop in PR-AUC when one feature's column is shuffled (3 repeats) on the test rows."""
    rng = np.random.default_rng(seed)
    if len(x) > rows:
        keep = np.sort(rng.choice(len(x), rows, replace=False))
        x, y = x.iloc[keep].reset_index(drop=True), y[keep]
    base = ranking_metrics(y, raw_proba(preprocessor, estimator, x))["pr_auc"]
    out = []
    for name in tqdm(list(x.columns), desc="permutation importance", unit="feature"):
        drops = []
        for _ in range(3):
            shuffled = x.copy()
            shuffled[name] = rng.permutation(shuffled[name].to_numpy())
            score = raw_proba(preprocessor, estimator, shuffled)
            drops.append(base - ranking_metrics(y, score)["pr_auc"])
        out.append({"feature": name, "mean": float(np.mean(drops)), "sd": float(np.std(drops))})
    return pd.DataFrame(out)


class Stopwatch:
    """Wall seconds per stage of a run (each lap ends one), logged and kept for metrics.json."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = round(now - self._last, 2)
        self._last = now
        log.info("stage %s: %.1f s", stage, self.seconds[stage])


def _load(settings: TrainSettings):
    """(feature spec, training frame) from dbt's labels joined point-in-time by Feast."""
    store = open_store(data_dir=settings.feast_data_dir)
    spec = feature_spec(store)
    labels = load_labels(settings.labels_path)
    windows = labels["label_window_days"].unique().tolist()
    window = settings.label_window_days
    if windows != [window]:
        raise SystemExit(
            f"labels were built with a {windows} day window but --label-window is "
            f"{window}; rebuild with `dbt build --vars 'label_window_days: {window}'`"
        )
    log.info("building the training set from Feast (%s labels)", f"{len(labels):,}")
    return spec, training_frame(store, labels)


def choose_model(results: dict[str, dict], metric: str, choose_on: str) -> tuple[str, str]:
    """(model key, what chose it): the best CV fold mean of `metric`, else validation's.

    Falls back to the validation date when CV was off or produced no finite mean for some
    model (too few labelled dates for a fold), so a choice is always made on the same footing
    for every model.
    """
    if choose_on == "cv":
        means = {k: r.get("cv", {}).get(metric, {}).get("mean", np.nan) for k, r in results.items()}
        if all(np.isfinite(v) for v in means.values()):
            return max(means, key=means.__getitem__), "cv"
    return max(results, key=lambda k: results[k]["validation"][metric]), "validation"


def run(settings: TrainSettings) -> int:
    started = time.perf_counter()
    clock = Stopwatch()
    spec, frame = _load(settings)
    clock.lap("training set from Feast")
    window = settings.label_window_days
    train, valid, test = split_by_as_of(
        frame, settings.validation_dates, window, settings.test_as_of
    )
    test_date = test["as_of_date"].iloc[0]
    # the models fit on a seeded sample of the training rows when there are very many of them
    fit_rows = at_most(train, settings.max_train_rows, settings.seed)
    log.info(
        "train %s rows (%s → %s; models fit on %s), validation %s rows, test %s rows (as of %s)",
        f"{len(train):,}",
        train["as_of_date"].min(),
        train["as_of_date"].max(),
        f"{len(fit_rows):,}",
        f"{len(valid):,}",
        f"{len(test):,}",
        test_date,
    )
    x_train, x_valid, x_test = (as_model_input(part, spec) for part in (fit_rows, valid, test))
    y_train, y_valid, y_test = (part[LABEL].to_numpy() for part in (fit_rows, valid, test))
    clock.lap("split by as-of date")

    results: dict[str, dict] = {}
    fitted = {}
    raw_test = {}
    test_proba = {}
    for key in tqdm(settings.models, desc="training models", unit="model"):
        t0 = time.perf_counter()
        preprocessor, estimator = candidates.fit(key, spec, x_train, y_train, settings.seed)
        raw_valid = raw_proba(preprocessor, estimator, x_valid)
        calibrator = fit_calibrator(raw_valid, y_valid)
        proba_valid = calibrator.predict(raw_valid)
        threshold = best_f1_threshold(y_valid, proba_valid)
        raw_test[key] = raw_proba(preprocessor, estimator, x_test)
        test_proba[key] = calibrator.predict(raw_test[key])
        results[key] = {
            "name": CANDIDATES[key].name,
            "validation": probability_metrics(y_valid, proba_valid, threshold),
            "test": probability_metrics(y_test, test_proba[key], threshold),
            "fit_seconds": round(time.perf_counter() - t0, 2),
        }
        fitted[key] = (preprocessor, estimator, calibrator, threshold)
        log.info(
            "%s: validation %s %.4f, test ROC-AUC %.4f PR-AUC %.4f",
            CANDIDATES[key].name,
            settings.selection_metric,
            results[key]["validation"][settings.selection_metric],
            results[key]["test"]["roc_auc"],
            results[key]["test"]["pr_auc"],
        )
        clock.lap(f"fit, calibrate, evaluate {key}")

    bgnbd = BGNBD.fit_frame(train, seed=settings.seed)
    bg_valid = bgnbd.predict_frame(valid, window)
    bg_test = bgnbd.predict_frame(test, window)
    bg_threshold = best_f1_threshold(y_valid, bg_valid)
    baselines = {
        "recency": {
            "name": "Baseline: recency only (more recent = more likely)",
            "validation": ranking_metrics(y_valid, -valid["recency_days"].to_numpy(float)),
            "test": ranking_metrics(y_test, -test["recency_days"].to_numpy(float)),
        },
        "bgnbd": {
            "name": f"Baseline: BG/NBD, P(≥1 purchase in {window} d)",
            "validation": probability_metrics(y_valid, bg_valid, bg_threshold),
            "test": probability_metrics(y_test, bg_test, bg_threshold),
            "parameters": bgnbd.as_dict(),
        },
    }
    clock.lap("baselines")
    if settings.cv_folds > 0:
        known = pd.concat([train, valid])
        cv = cross_validate(
            known,
            spec,
            settings.models,
            test_date,
            window,
            settings.cv_folds,
            settings.seed,
            max_rows=settings.cv_max_rows,
        )
        for key, entry in {**results, **baselines}.items():
            entry["cv"] = cv[key]
        clock.lap("cross-validation")
    metric = settings.selection_metric
    chosen, chosen_on = choose_model(results, metric, settings.choose_on)
    chosen_score = results[chosen]["test"][metric]
    baseline_score = baselines["recency"]["test"][metric]
    gate_passed = bool(chosen_score > baseline_score)

    version = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{chosen}"
    preprocessor, estimator, calibrator, threshold = fitted[chosen]
    oracle = _oracle(settings.ground_truth, test, window)
    slices = slice_metrics(test, y_test, test_proba[chosen], threshold)
    clock.lap("oracle and slices")
    metrics = {
        "selection_metric": metric,
        "chosen_on": chosen_on,
        "chosen": chosen,
        "models": results,
        "baselines": baselines,
        "oracle": {k: v for k, v in oracle.items() if k != "scores"} if oracle else None,
        "cv_protocol": (
            f"expanding window by as-of date, up to {settings.cv_folds} folds; a fold trains on "
            f"dates whose {window}-day label window ends by its validation date; only dates "
            f"whose label window ends by the test date {test_date}; at most "
            f"{settings.cv_max_rows or 'all'} training and validation rows per fold (seeded "
            "samples); "
            "raw (uncalibrated) scores"
        ),
        "slices": {"model": chosen, "date": str(test_date), **slices},
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
        "label_window_days": window,
        "as_of_range": {
            "train": [str(train["as_of_date"].min()), str(train["as_of_date"].max())],
            "validation": [str(valid["as_of_date"].min()), str(valid["as_of_date"].max())],
            "test": str(test_date),
        },
        "rows": {
            "train": len(train),
            "train_fitted": len(fit_rows),
            "validation": len(valid),
            "test": len(test),
        },
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
    clock.lap("artifact")
    permutation = _permutation_importance(
        preprocessor, estimator, x_test, y_test, settings.permutation_rows, settings.seed
    )
    clock.lap("permutation importance")
    scores = {results[k]["name"]: test_proba[k] for k in results}
    scores[baselines["bgnbd"]["name"]] = bg_test
    scores[baselines["recency"]["name"]] = -test["recency_days"].to_numpy(float)
    if oracle:
        scores[oracle["name"]] = oracle["scores"]
    write_report(
        directory,
        ReportData(
            version=version,
            test_as_of=str(test_date),
            chosen=chosen,
            metrics=metrics,
            y_test=y_test,
            test_scores=scores,
            chosen_raw=raw_test[chosen],
            confusion={
                **{r["name"]: r["test"]["confusion_matrix"] for r in results.values()},
                "BG/NBD": baselines["bgnbd"]["test"]["confusion_matrix"],
            },
            native_importance=_native_importance(preprocessor, estimator, spec),
            permutation_importance=permutation,
            slices=slices,
        ),
    )
    clock.lap("report")
    elapsed = time.perf_counter() - started
    metrics["seconds"] = {**clock.seconds, "total": round(elapsed, 2)}
    (directory / "metrics.json").write_text(json.dumps(metrics, indent=2))
    _print_comparison(metrics, str(test_date))
    if not gate_passed:
        print(
            f"\nNOT PROMOTED: {CANDIDATES[chosen].name} scored {metric} {chosen_score:.4f} on the "
            f"held-out date, not above the recency baseline's {baseline_score:.4f}. "
            f"The artifact is kept at {directory} for inspection; models/current is unchanged."
        )
        return GATE_FAILED
    promote(settings.models_dir, version)
    print(f"\npromoted {version} → {settings.models_dir / 'current'} ({elapsed:.1f} s)")
    print(f"report: {directory / 'report.html'}")
    return 0


def _print_comparison(metrics: dict, test_date: str) -> None:
    def cv(entry: dict, name: str) -> str:
        summary = entry.get("cv", {}).get(name)
        if not summary or not summary["n"]:
            return f"{'':>15}"
        return f"{summary['mean']:>8.4f}±{summary['sd']:.3f}"

    judge = "CV fold mean" if metrics.get("chosen_on") == "cv" else "validation date"
    print(
        f"\nmodel comparison on the held-out as-of date {test_date} (CV: mean±sd over folds; "
        f"* = chosen by {judge} {metrics['selection_metric']}):"
    )
    print(
        f"  {'model':<52} {'ROC-AUC':>8} {'PR-AUC':>8} {'F1':>6} {'CV ROC-AUC':>15} "
        f"{'CV PR-AUC':>15}"
    )
    rows = [(k == metrics["chosen"], e) for k, e in metrics["models"].items()]
    rows += [(False, e) for e in metrics["baselines"].values()]
    if metrics.get("oracle"):
        rows.append((False, metrics["oracle"]))
    for chosen, e in rows:
        t = e["test"]
        f1 = f"{t['f1']:>6.3f}" if "f1" in t else f"{'':>6}"
        print(
            f" {'*' if chosen else ' '}{e['name']:<52} {t['roc_auc']:>8.4f} {t['pr_auc']:>8.4f} "
            f"{f1} {cv(e, 'roc_auc')} {cv(e, 'pr_auc')}"
        )


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
        help="metric that chooses the model (%(default)s)",
    )
    parser.add_argument(
        "--choose-on",
        choices=["cv", "validation"],
        default=defaults.choose_on,
        help="choose by the metric's mean over the CV folds, or on the validation date alone; "
        "cv falls back to validation when no fold ran (%(default)s)",
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
    parser.add_argument(
        "--cv-folds",
        type=int,
        default=defaults.cv_folds,
        help="expanding-window folds by as-of date for the comparison; 0 = none (%(default)s)",
    )
    parser.add_argument(
        "--max-train-rows",
        type=int,
        default=defaults.max_train_rows,
        help="fit the models on a seeded sample of this many training rows when there are "
        "more; 0 = all (%(default)s)",
    )
    parser.add_argument(
        "--ground-truth",
        type=Path,
        default=None,
        metavar="PATH",
        help="the sample generator's ground_truth.parquet, for the oracle in the report "
        "(default: $RAW_DIR/ground_truth.parquet, or data/raw's, if it exists)",
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
        choose_on=args.choose_on,
        test_as_of=args.test_as_of,
        models_dir=args.models_dir.resolve(),
        cv_folds=max(args.cv_folds, 0),
        max_train_rows=max(args.max_train_rows, 0),
        ground_truth=args.ground_truth.resolve() if args.ground_truth else default_ground_truth(),
    )


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("feast").setLevel(logging.WARNING)
    # Feast's DuckDB offline store reads the marts through ibis, whose DuckDB backend calls
    # duckdb's deprecated fetch_arrow_table() while building the training set; not our call.
    warnings.filterwarnings(
        "ignore",
        message=r"fetch_arrow_table\(\) is deprecated",
        category=DeprecationWarning,
        module=r"ibis\.backends\.duckdb",
    )
    np.seterr(all="ignore")
    sys.exit(run(parse_args(argv)))


if __name__ == "__main__":
    main()
