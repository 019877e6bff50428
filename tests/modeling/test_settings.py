"""Training settings: every field is a flag and a TRAIN_* variable, the data folders are the
pipeline's, and a bad value stops the command with a message naming where it came from."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ingest.paths import REPO_ROOT
from modeling.settings import TrainSettings
from modeling.train import parse_args


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("RAW_DIR", "FEATURES_DIR", "MODELS_DIR", "DUCKDB_PATH"):
        monkeypatch.delenv(name, raising=False)
    for name in TrainSettings.model_fields:
        monkeypatch.delenv(f"TRAIN_{name.upper()}", raising=False)


def test_help_lists_a_flag_and_a_variable_for_every_field():
    result = subprocess.run(
        [sys.executable, "-m", "modeling.train", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    page = " ".join(result.stdout.split())  # argparse wraps lines
    for name in TrainSettings.model_fields:
        assert f"--{name.replace('_', '-')}" in page, name
        pipeline_folder = name in ("features_dir", "models_dir", "raw_dir")
        assert f"env {'' if pipeline_folder else 'TRAIN_'}{name.upper()}" in page, name
    assert "--metric" in page and "--label-window " in page  # the older names still work


def test_environment_sets_a_field_and_a_flag_beats_it(monkeypatch):
    monkeypatch.setenv("TRAIN_SEED", "7")
    monkeypatch.setenv("TRAIN_MODELS", "lr,xgb")
    monkeypatch.setenv("TRAIN_CV_FOLDS", "0")
    settings = parse_args([])
    assert (settings.seed, settings.models, settings.cv_folds) == (7, ("lr", "xgb"), 0)
    assert parse_args(["--seed", "9", "--metric", "roc_auc"]).seed == 9
    assert parse_args(["--metric", "roc_auc"]).selection_metric == "roc_auc"
    assert TrainSettings(seed=11).seed == 11  # code beats the environment too


def test_data_folders_are_the_pipelines(monkeypatch, tmp_path):
    monkeypatch.setenv("MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("TRAIN_MODELS_DIR", str(tmp_path / "ignored"))  # not a second name
    assert parse_args([]).models_dir == tmp_path / "models"
    assert parse_args(["--models-dir", str(tmp_path / "flag")]).models_dir == tmp_path / "flag"
    assert TrainSettings().features_dir == REPO_ROOT / "data" / "features"


def test_ground_truth_is_not_taken_from_another_datasets_raw_folder(monkeypatch, tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "ground_truth.parquet").write_bytes(b"")
    monkeypatch.setenv("RAW_DIR", str(tmp_path / "raw"))
    assert parse_args([]).ground_truth == tmp_path / "raw" / "ground_truth.parquet"
    monkeypatch.delenv("RAW_DIR")
    monkeypatch.setenv("FEATURES_DIR", str(tmp_path / "elsewhere"))
    assert parse_args([]).ground_truth is None  # data/raw's truth is not these features'


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--seed", "abc"], "--seed / TRAIN_SEED"),
        (["--cv-folds", "-1"], "--cv-folds / TRAIN_CV_FOLDS"),
        (["--models", "lr,gbm"], "--models / TRAIN_MODELS"),
        (["--test-as-of", "yesterday"], "--test-as-of / TRAIN_TEST_AS_OF"),
    ],
)
def test_a_bad_flag_names_the_field(argv, named, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_args(argv)
    assert exit_.value.code == 2
    assert named in capsys.readouterr().err


def test_a_bad_environment_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("TRAIN_MAX_TRAIN_ROWS", "many")
    with pytest.raises(SystemExit, match="--max-train-rows / TRAIN_MAX_TRAIN_ROWS"):
        parse_args([])
