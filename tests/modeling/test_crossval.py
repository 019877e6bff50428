"""Cross-validation folds by as-of date: never train on the fold's date or after it."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from modeling.crossval import time_folds

MONTH_ENDS = [d.date() for d in pd.date_range("2010-12-31", "2011-11-30", freq="ME")]
WEEKLY = [d.date() for d in pd.date_range("2010-12-05", "2011-11-30", freq="7D")]


@pytest.mark.parametrize("dates", [MONTH_ENDS, WEEKLY, sorted(set(MONTH_ENDS) | set(WEEKLY))])
@pytest.mark.parametrize("test_date", [date(2011, 6, 30), date(2011, 10, 31)])
def test_folds_train_only_on_dates_whose_labels_ended_before_the_fold_date(dates, test_date):
    window = timedelta(days=30)
    folds = time_folds(dates, test_date, 30, folds=5)
    assert len(folds) == 5
    previous = None
    for train, valid in folds:
        assert train, "a fold without training dates"
        assert max(train) < valid
        assert all(d + window <= valid for d in train)  # no training label saw valid's window
        assert valid + window <= test_date  # the test date stays unseen
        assert previous is None or valid > previous  # expanding window, oldest first
        previous = valid


def test_fewer_dates_than_folds_gives_as_many_folds_as_exist():
    dates = MONTH_ENDS[:4]  # Dec..Mar: Mar 31 is the test date
    folds = time_folds(dates, dates[-1], 30, folds=5)
    assert 0 < len(folds) < 5
    assert all(max(train) + timedelta(days=30) <= valid for train, valid in folds)
    assert time_folds(dates, dates[-1], 30, folds=0) == []


def test_cross_validation_in_metrics_follows_the_rule(trained_models):
    import json

    metrics = json.loads((trained_models / "current" / "metrics.json").read_text())
    meta = json.loads((trained_models / "current" / "metadata.json").read_text())
    test_date = date.fromisoformat(meta["as_of_range"]["test"])
    for entry in [*metrics["models"].values(), *metrics["baselines"].values()]:
        cv = entry["cv"]
        assert cv["pr_auc"]["n"] == len(cv["folds"]) > 0
        for fold in cv["folds"]:
            valid = date.fromisoformat(fold["validation_date"])
            last_train = date.fromisoformat(fold["train_dates"][1])
            assert last_train + timedelta(days=30) <= valid
            assert valid + timedelta(days=30) <= test_date


def test_best_f1_threshold_matches_scoring_every_cut():
    import numpy as np
    from sklearn.metrics import f1_score

    from modeling.evaluate import best_f1_threshold

    rng = np.random.default_rng(3)
    for rounded in (False, True):
        proba = rng.random(3000)
        proba = np.round(proba, 2) if rounded else proba
        y = (rng.random(3000) < proba * 0.6).astype(int)
        cuts = np.unique(np.round(proba, 4))
        if len(cuts) > 400:
            cuts = np.quantile(proba, np.linspace(0.01, 0.99, 199))
        scores = [f1_score(y, (proba >= c).astype(int)) for c in cuts]
        assert best_f1_threshold(y, proba) == cuts[int(np.argmax(scores))]


def test_row_caps_are_seeded_samples_in_order():
    import pandas as pd

    from modeling.dataset import at_most

    frame = pd.DataFrame({"x": range(1000)})
    assert at_most(frame, 0, 1) is frame and at_most(frame, 5000, 1) is frame
    first, again = at_most(frame, 100, 1), at_most(frame, 100, 1)
    assert len(first) == 100 and first.equals(again)
    assert first.index.is_monotonic_increasing


def test_the_model_chosen_has_the_best_cv_fold_mean(trained_models):
    import json

    metrics = json.loads((trained_models / "current" / "metrics.json").read_text())
    metric = metrics["selection_metric"]
    assert metrics["chosen_on"] == "cv"
    means = {key: entry["cv"][metric]["mean"] for key, entry in metrics["models"].items()}
    assert metrics["chosen"] == max(means, key=means.__getitem__)


def test_choice_falls_back_to_validation_when_a_model_has_no_fold_mean():
    from modeling.selection import choose_model

    def entry(validation: float, cv_mean: float) -> dict:
        return {"validation": {"pr_auc": validation}, "cv": {"pr_auc": {"mean": cv_mean}}}

    results = {"lr": entry(0.70, 0.60), "xgb": entry(0.60, 0.70)}
    assert choose_model(results, "pr_auc", "cv") == ("xgb", "cv")
    assert choose_model(results, "pr_auc", "validation") == ("lr", "validation")
    results["xgb"]["cv"]["pr_auc"]["mean"] = float("nan")  # no fold could run
    assert choose_model(results, "pr_auc", "cv") == ("lr", "validation")
    del results["xgb"]["cv"]  # --cv-folds 0
    assert choose_model(results, "pr_auc", "cv") == ("lr", "validation")
