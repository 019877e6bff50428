"""`python -m modeling.train`: build the training set from Feast, compare models, promote one.

Time-honest: models are fitted on the older as-of dates, calibrated (and the threshold chosen)
on the next ones, and reported on the latest fully labelled as-of date, which neither fitting
nor choosing saw. The model is chosen by its mean score over expanding-window cross-validation
folds by as-of date (several later dates judge better than one), or on the validation date
alone with --choose-on validation. Two baselines stand beside the models: recency, and BG/NBD
fitted on the same training rows. models/<version>/ gets the artifact, metrics.json and
report.html. The chosen model is promoted to models/current only if it beats the recency
baseline on that held-out date (otherwise the command says so and exits with status 2) and
then only if it also beats the model in models/current, the champion, on that date by more
than `champion_margin_sd` CV standard deviations (`champion`). A champion kept is not a
failure: the run exits 0 (so `make pipeline` goes on) and says "CHAMPION KEPT" with both
figures; metrics.json's `promotion` holds the verdict either way. Every switch of
models/current is appended to models/promotions.jsonl (`promotions`).

`run` reads as the steps, each in its own module: training set (`training_set`: label rows
sampled per part before Feast's join, refused up front when the estimated memory would not
fit) → fit (`fitting`) → baselines (`baselines`) → cross-validation (`crossval`) → choose and
gate (`selection`) → artifact (`metadata`, `artifact`) → report (`importance`, `report`,
`summary`) → champion / challenger (`champion`) and promotion
(`artifact.promote`, `promotions`). Each stage's wall seconds and memory (peak and current
RSS, `ingest.memory.Stages`) are logged and kept in metrics.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from ingest.memory import Stages
from modeling import champion, promotions, training_set
from modeling.artifact import promote, save_artifact
from modeling.baselines import BGNBD_KEY, RECENCY, Reference, fit_baselines, oracle
from modeling.champion import Verdict
from modeling.crossval import cross_validate
from modeling.evaluate import slice_metrics
from modeling.fitting import FittedModel, fit_model
from modeling.importance import native_importance, permutation_importance
from modeling.metadata import model_metadata
from modeling.report import ReportData, write_report
from modeling.selection import Gate, choose_model
from modeling.settings import TrainSettings, add_flags, from_environment, from_flags
from modeling.summary import cv_protocol, print_comparison, run_metrics
from modeling.training_set import TrainingSet

log = logging.getLogger("modeling.train")

GATE_FAILED = 2
# the champion in models/current stays: not an error, the run did its job (and `make pipeline`
# must go on to scoring with the model in force)
CHAMPION_KEPT = 0

__all__ = ["CHAMPION_KEPT", "GATE_FAILED", "choose_model", "main", "parse_args", "run"]


def run(settings: TrainSettings) -> int:
    """One training run: 0 when a model was promoted, CHAMPION_KEPT (also 0) when the champion
    stayed, GATE_FAILED when the chosen model did not beat recency."""
    started = time.perf_counter()
    clock = Stages(log)
    window, seed, metric = settings.label_window_days, settings.seed, settings.selection_metric

    data = training_set.build(settings, clock.lap)
    spec = data.spec

    fitted: dict[str, FittedModel] = {}
    for key in tqdm(settings.models, desc="training models", unit="model"):
        fitted[key] = fit_model(key, data, seed, metric)
        clock.lap(f"fit, calibrate, evaluate {key}")

    baselines = fit_baselines(data, window, seed)
    clock.lap("baselines")

    if settings.cv_folds > 0:
        known = pd.concat([data.train, data.valid])
        cv = cross_validate(
            known,
            spec,
            settings.models,
            data.test_date,
            window,
            settings.cv_folds,
            seed,
            max_rows=settings.cv_max_rows,
        )
        for key, entry in _entries(fitted, baselines).items():
            entry["cv"] = cv[key]
        clock.lap("cross-validation")

    results = {key: model.entry for key, model in fitted.items()}
    chosen_key, chosen_on = choose_model(results, metric, settings.choose_on)
    chosen = fitted[chosen_key]
    gate = Gate(metric, chosen.entry["test"][metric], baselines[RECENCY].entry["test"][metric])
    truth = oracle(settings.ground_truth, data.test, window)
    slices = slice_metrics(data.test, data.y_test, chosen.test_proba, chosen.threshold)
    clock.lap("oracle and slices")
    protocol = cv_protocol(settings.cv_folds, window, data.test_date, settings.cv_max_rows)
    metrics = run_metrics(
        fitted=fitted,
        baselines=baselines,
        oracle=truth,
        chosen=chosen_key,
        chosen_on=chosen_on,
        gate=gate,
        slices=slices,
        test_date=data.test_date,
        protocol=protocol,
        sampling=data.sampling,
    )

    verdict = None
    if gate.passed:
        verdict = champion.judge(
            settings.models_dir,
            data,
            chosen.entry["test"],
            window=window,
            metric=metric,
            cv_spread=champion.spread(chosen.entry.get("cv"), metric),
            multiplier=settings.champion_margin_sd,
            force=settings.force_promote,
        )
        clock.lap("champion / challenger")
    metrics["promotion"] = verdict.as_dict() if verdict else None

    version = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{chosen_key}"
    directory = settings.models_dir / version
    save_artifact(
        directory,
        preprocessor=chosen.preprocessor,
        estimator=chosen.estimator,
        calibrator=chosen.calibrator,
        metadata=model_metadata(version, chosen, data, window, seed),
    )
    clock.lap("artifact")

    permutation = permutation_importance(
        chosen.preprocessor,
        chosen.estimator,
        data.x_test,
        data.y_test,
        settings.permutation_rows,
        seed,
    )
    clock.lap("permutation importance")
    write_report(
        directory,
        _report_data(version, data, fitted, chosen, baselines, truth, metrics, permutation, slices),
    )
    clock.lap("report")
    elapsed = time.perf_counter() - started
    metrics.update(clock.summary())
    (directory / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print_comparison(metrics, str(data.test_date))
    return _promote_if_passed(
        settings.models_dir, version, directory, chosen, gate, verdict, elapsed
    )


def _entries(fitted: dict[str, FittedModel], baselines: dict) -> dict[str, dict]:
    """Every metrics.json entry cross-validation reports on: models, then baselines."""
    return {
        **{key: model.entry for key, model in fitted.items()},
        **{key: baseline.entry for key, baseline in baselines.items()},
    }


def _report_data(
    version: str,
    data: TrainingSet,
    fitted: dict[str, FittedModel],
    chosen: FittedModel,
    baselines: dict[str, Reference],
    truth: Reference | None,
    metrics: dict,
    permutation: pd.DataFrame,
    slices: dict,
) -> ReportData:
    """What report.html shows, from the scores the steps above computed (none recomputed)."""
    scores = {model.name: model.test_proba for model in fitted.values()}
    for key in (BGNBD_KEY, RECENCY):
        scores[baselines[key].name] = baselines[key].test_scores
    if truth:
        scores[truth.name] = truth.test_scores
    return ReportData(
        version=version,
        test_as_of=str(data.test_date),
        chosen=chosen.key,
        metrics=metrics,
        y_test=data.y_test,
        test_scores=scores,
        chosen_raw=chosen.raw_test,
        confusion={
            **{model.name: model.entry["test"]["confusion_matrix"] for model in fitted.values()},
            "BG/NBD": baselines[BGNBD_KEY].entry["test"]["confusion_matrix"],
        },
        native_importance=native_importance(chosen.preprocessor, chosen.estimator, data.spec),
        permutation_importance=permutation,
        slices=slices,
    )


def _promote_if_passed(
    models_dir: Path,
    version: str,
    directory: Path,
    chosen: FittedModel,
    gate: Gate,
    verdict: Verdict | None,
    elapsed: float,
) -> int:
    """Point models/current at the new version if the gate passed and the challenger beat
    the champion (recorded in models/promotions.jsonl); say why not otherwise."""
    if not gate.passed or verdict is None:
        print(
            f"\nNOT PROMOTED: {chosen.name} scored {gate.metric} {gate.chosen:.4f} on the "
            f"held-out date, not above the recency baseline's {gate.recency_baseline:.4f}. "
            f"The artifact is kept at {directory} for inspection; models/current is unchanged."
        )
        return GATE_FAILED
    if not verdict.promote:
        print(
            f"\nCHAMPION KEPT: {verdict.champion} stays in models/current. {verdict.reason}. "
            f"The challenger is kept at {directory} for inspection."
        )
        return CHAMPION_KEPT
    promote(models_dir, version)
    promotions.record(
        models_dir,
        action=promotions.PROMOTE,
        version=version,
        previous=verdict.champion,
        reason=verdict.reason,
        compared_on=verdict.compared_on,
        figures=verdict.figures,
    )
    print(f"\npromoted {version} → {models_dir / 'current'} ({elapsed:.1f} s): {verdict.reason}")
    print(f"report: {directory / 'report.html'}")
    return 0


def parse_args(argv: list[str] | None = None) -> TrainSettings:
    """Flags over TRAIN_* variables over defaults: one flag per TrainSettings field."""
    prog = "python -m modeling.train"
    defaults = from_environment(prog)
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Train and compare Logistic Regression, Random Forest and XGBoost on the "
        "point-in-time training set from Feast, write models/<version>/ and promote the best "
        "to models/current if it beats the recency baseline. Every flag can also be set by "
        "the environment variable named in its help (TRAIN_<FIELD>, or the pipeline's data "
        "folder variables). The new model replaces models/current only if it also beats it "
        "(the champion) on the newest labelled date neither was fitted on, by more than "
        "--champion-margin-sd CV standard deviations; a champion kept exits 0, a model "
        "that does not beat recency exits 2. Each promotion is appended to "
        "models/promotions.jsonl; python -m modeling.rollback undoes the last one.",
    )
    add_flags(parser, defaults)
    return from_flags(parser, argv)


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
