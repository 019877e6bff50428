"""Fit on the driver: the unchanged `python -m modeling.train` over the sample Spark collected.

Why a sample on the driver and not `xgboost.spark`: training already fits on a seeded sample
of 400,000 training rows (`--max-train-rows`), because more rows did not buy quality: on the
200,000-customer sample the 400k-row fit scored the same held-out ROC-AUC as the fit on all
1.6M training rows (XGBoost 0.8689 → 0.8688, random forest 0.8691 → 0.8686, logistic
regression unchanged; docs/PERFORMANCE.md, Training), and ten times the customers moved the
chosen model by +0.0017 only (0.8671 at 20k, 0.8688 at 200k; docs/MODEL_QUALITY.md). A
400,000-row fit takes seconds on one core. Distributed fitting would add a second training
code path (its own preprocessing, calibration, CV, baselines, report, champion/challenger)
to buy nothing measurable, so the cluster does what grows with the data (the backfill, the
point-in-time join, scoring, the online load) and the driver fits what does not.

The sample folder is a FEATURES_DIR in the backfill's layout; a Feast registry over it is
applied in ``<sample>/feast`` (SQLite: training reads the offline store only), and
`modeling.train` runs with its usual flags, TRAIN_* variables, gate, champion/challenger and
report, promoting to ``<models>/current``.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from feature_repo.store import REPO_DIR, apply_definitions, open_store
from modeling import train

# the flags this step sets itself; anything else is modeling.train's to take
OWN_FLAGS = (
    *("--features-dir", "--feast-data-dir", "--models-dir", "--raw-dir"),
    *("--label-window", "--label-window-days"),
)


def train_argv(
    sample_dir: Path,
    models_dir: Path,
    label_window_days: int,
    raw_dir: Path | None = None,
    extra: str = "",
) -> list[str]:
    """modeling.train's argument list: the user's flags, then where the sample and models are
    (and the raw folder, when it is on this machine: its ground truth feeds the oracle)."""
    user = shlex.split(extra)
    if clash := [f for f in user if f.split("=")[0] in OWN_FLAGS]:
        raise SystemExit(f"--train must not set {clash}: the Spark pipeline sets them")
    return [
        *user,
        "--features-dir",
        str(sample_dir),
        "--feast-data-dir",
        str(sample_dir / "feast"),
        "--models-dir",
        str(models_dir),
        "--label-window-days",
        str(label_window_days),
        *(["--raw-dir", str(raw_dir)] if raw_dir is not None else []),
    ]


def check_train_args(argv: list[str]) -> None:
    """Fail now, not after the backfill, when modeling.train would refuse its flags."""
    train.parse_args(argv)


def fit(argv: list[str]) -> int:
    """Register the FeatureService over the sample and run modeling.train; its exit status
    (0 promoted or champion kept, 2 did not beat recency)."""
    settings = train.parse_args(argv)
    settings.feast_data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(data_dir=settings.feast_data_dir, yaml_path=REPO_DIR / "feature_store.yaml")
    apply_definitions(store, features_dir=settings.features_dir)
    try:
        train.main(argv)
    except SystemExit as done:
        if isinstance(done.code, str):  # a refusal with its message (bad labels, memory)
            print(f"error: {done.code}", file=sys.stderr)
            return 1
        return done.code or 0
    return 0
