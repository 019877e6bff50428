"""Settings of the training app: one pydantic-settings object, read once per run.

Every field has an environment variable, TRAIN_<FIELD> (TRAIN_SEED=7), and a command-line
flag, --<field-with-dashes> (--seed 7), generated from the fields by `add_flags` so the two
cannot drift; a flag beats the environment, which beats the default. Two flags keep their
older short names as well (--label-window, --metric). The data folders are the pipeline's
(`ingest.paths.PipelinePaths`: FEATURES_DIR, MODELS_DIR, RAW_DIR), not TRAIN_* variables,
so training and every other stage agree on where the marts and models are; their flags
still override them for one run. A bad value, from either side, stops the command with a
message naming the flag and the variable.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from ingest.dbt_vars import label_window_days
from ingest.paths import REPO_ROOT, pipeline_paths
from modeling.candidates import NAMES as MODEL_NAMES

__all__ = [
    "REPO_ROOT",
    "TrainSettings",
    "add_flags",
    "default_ground_truth",
    "from_environment",
    "from_flags",
]

ENV_PREFIX = "TRAIN_"
# the data folders: PipelinePaths' environment names, never TRAIN_*
FOLDERS = ("features_dir", "models_dir", "raw_dir")
# older flag names still accepted beside the generated ones
SHORT_FLAGS = {"label_window_days": "--label-window", "selection_metric": "--metric"}


class _KnobsFromEnv(EnvSettingsSource):
    """TRAIN_* for every field but the data folders, which PipelinePaths reads."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field_name in FOLDERS:
            return None, field_name, False
        return super().get_field_value(field, field_name)


class TrainSettings(BaseSettings):
    """What `python -m modeling.train` needs; each field is a flag and a TRAIN_* variable."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")

    models: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("lr", "rf", "xgb"),
        description=f"comma-separated models to compare: {', '.join(MODEL_NAMES)}",
    )
    seed: int = Field(default=42, description="random seed")
    # Labels come from dbt's customer_labels; its window must match this (checked). The
    # default is dbt's own var, so only an explicit value can disagree with it.
    label_window_days: int = Field(
        default_factory=label_window_days,
        ge=1,
        description="label window in days; must match dbt's label_window_days",
    )
    validation_dates: int = Field(
        default=1,
        ge=1,
        description="latest fully labelled as-of dates before the test date held out for "
        "calibrating and choosing the threshold",
    )
    selection_metric: Literal["pr_auc", "roc_auc"] = Field(
        default="pr_auc", description="metric that chooses the model"
    )
    # One date is a noisy judge: on UCI's weekly backtests it preferred the forest on all four
    # dates while every fold mean preferred XGBoost (as did 3 of the 4 held-out dates by
    # ROC-AUC).
    choose_on: Literal["cv", "validation"] = Field(
        default="cv",
        description="choose by the metric's mean over the CV folds, or on the validation date "
        "alone; cv falls back to validation when no fold ran",
    )
    test_as_of: date | None = Field(
        default=None,
        description="backtest: report on this labelled as-of date (YYYY-MM-DD), training only "
        "on what was known by then; unset = the latest labelled date",
    )
    features_dir: Path = Field(
        default_factory=lambda: pipeline_paths().features_dir,
        description="dbt's marts (customer_labels), or a backfill's output folder",
    )
    models_dir: Path = Field(
        default_factory=lambda: pipeline_paths().models_dir,
        description="where models/<version>/ and models/current go",
    )
    raw_dir: Path = Field(
        default_factory=lambda: pipeline_paths().raw_dir,
        description="the raw log, whose ground_truth.parquet (sample data) feeds the oracle",
    )
    feast_data_dir: Path | None = Field(
        default=None,
        description="Feast registry and SQLite folder, instead of the yaml's; unset = the yaml's",
    )
    cv_folds: int = Field(
        default=5,
        ge=0,
        description="expanding-window folds by as-of date for the comparison; 0 = none",
    )
    # On the 200k-customer sample 400k of 1.6M rows cost < 0.002 ROC-AUC and cut fitting ~4x
    # (docs/PERFORMANCE.md, Training).
    # Sampled before the point-in-time join (modeling.sampling), stratified by as-of date, so
    # only the rows used are ever built: at 1M customers the whole training set took 22 GB.
    max_train_rows: int = Field(
        default=400_000,
        ge=0,
        description="train on a seeded sample of this many training label rows, stratified by "
        "as-of date and drawn before the Feast join, when there are more; 0 = all",
    )
    # Half a million rows measure ROC-AUC to about ±0.001 (its standard error at 1M customers'
    # test date, ~0.0006), and calibrate as well as a million; the other half cost ~40 s and
    # ~2.5 GB at 1M customers (docs/PERFORMANCE.md, issue #18).
    max_eval_rows: int = Field(
        default=500_000,
        ge=0,
        description="the same for the validation rows and for the test rows (each part at "
        "most this many); 0 = all",
    )
    memory_limit_gb: float | None = Field(
        default=None,
        gt=0,
        description="refuse to start when the training step's estimated peak memory exceeds "
        "this many GB; unset = the memory available now (MemAvailable)",
    )
    cv_max_rows: int = Field(
        default=60_000,
        ge=0,
        description="the same per cross-validation fold, for training and validation rows; 0 = all",
    )
    ground_truth: Path | None = Field(
        default=None,
        description="the sample generator's ground_truth.parquet, for the oracle row of the "
        "report; the command defaults it to RAW_DIR's when that belongs to the marts used",
    )
    permutation_rows: int = Field(
        default=10_000, ge=1, description="test rows (sampled) for permutation importance"
    )
    # Promotion beyond the recency gate: the new model (challenger) must beat the one in
    # models/current (champion) on the test date neither was fitted on (modeling.champion).
    champion_margin_sd: float = Field(
        default=1.0,
        ge=0,
        description="promote only if the new model beats models/current by more than this "
        "many CV standard deviations of the selection metric (0 = any improvement)",
    )
    force_promote: bool = Field(
        default=False,
        description="promote (if it beats recency) even when models/current cannot be compared "
        "on a date neither model was fitted on; the history records it as forced",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _KnobsFromEnv(settings_cls)

    @field_validator("models", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(m.strip() for m in value.split(",") if m.strip())
        return value

    @field_validator("models")
    @classmethod
    def _known_models(cls, models: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [m for m in models if m not in MODEL_NAMES]
        if unknown or not models:
            raise ValueError(f"unknown model(s) {unknown}; choose from {sorted(MODEL_NAMES)}")
        return models

    @field_validator("features_dir", "models_dir", "raw_dir", "feast_data_dir", "ground_truth")
    @classmethod
    def _absolute(cls, path: Path | None) -> Path | None:
        return None if path is None else path.resolve()

    @property
    def labels_path(self) -> Path:
        """dbt's customer_labels.parquet, or a backfill's customer_labels/ partition folder."""
        single = self.features_dir / "customer_labels.parquet"
        partitioned = self.features_dir / "customer_labels"
        return partitioned if not single.exists() and partitioned.is_dir() else single


def default_ground_truth(settings: TrainSettings) -> Path | None:
    """raw_dir's ground_truth.parquet, if it exists, unless the marts were moved (flag or
    FEATURES_DIR) and the raw folder was not: the truth must belong to the data the features
    came from."""
    moved = settings.model_fields_set | pipeline_paths().model_fields_set
    if "features_dir" in moved and "raw_dir" not in moved:
        return None
    path = settings.raw_dir / "ground_truth.parquet"
    return path if path.exists() else None


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _source(name: str) -> str:
    """Where a field's value comes from besides its flag, for messages and --help."""
    return name.upper() if name in FOLDERS else f"{ENV_PREFIX}{name.upper()}"


def add_flags(parser: argparse.ArgumentParser, defaults: TrainSettings) -> None:
    """One flag per field (plus SHORT_FLAGS), its help the field's description and the value
    in force (environment included). Only flags given override: argument_default SUPPRESS."""
    parser.argument_default = argparse.SUPPRESS
    for name, field in TrainSettings.model_fields.items():
        current = getattr(defaults, name)
        shown = ",".join(current) if isinstance(current, tuple) else current
        flags = [_flag(name), *([SHORT_FLAGS[name]] if name in SHORT_FLAGS else [])]
        choices = get_args(field.annotation) if get_origin(field.annotation) is Literal else None
        parser.add_argument(
            *flags,
            dest=name,
            choices=choices,
            metavar=None if choices else name.upper(),
            help=f"{field.description} (now: {'unset' if shown is None else shown}; env "
            f"{_source(name)})".replace("%", "%%"),
        )


def _explain(error: ValidationError) -> str:
    """One line per bad field, naming its flag and its environment variable."""
    lines = []
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else ""
        where = f"{_flag(name)} / {_source(name)}" if name in TrainSettings.model_fields else name
        lines.append(f"{where}: {problem['msg']} (got {problem.get('input')!r})")
    return "; ".join(lines)


def from_environment(prog: str) -> TrainSettings:
    """TRAIN_* and the pipeline's folders over the defaults; a bad value exits naming it."""
    try:
        return TrainSettings()
    except ValidationError as exc:
        raise SystemExit(f"{prog}: error: {_explain(exc)}") from None


def from_flags(parser: argparse.ArgumentParser, argv: list[str] | None) -> TrainSettings:
    """The settings of one run: the flags of `add_flags` over from_environment()'s values;
    a bad value exits through parser.error, naming the flag and the variable."""
    given = vars(parser.parse_args(argv))
    try:
        settings = TrainSettings(**given)
    except ValidationError as exc:
        parser.error(_explain(exc))
    if settings.ground_truth is None and "ground_truth" not in settings.model_fields_set:
        settings = settings.model_copy(update={"ground_truth": default_ground_truth(settings)})
    return settings
