"""Settings of `python -m monitoring`: one pydantic-settings object for the whole command.

MonitorSettings extends the drift check's DriftSettings (MONITOR_* variables, in
monitoring/drift.py), so realized quality, drift and the report read one object. The folders
the pipeline shares (features, models, scores) stay the pipeline's (`ingest.paths`); the one
folder only monitoring writes is `monitoring_dir`, read from MONITORING_DIR like its siblings
(RAW_DIR, SCORES_DIR, …) and, like them, relative to the checkout when relative.

Until monitoring/drift.py exists, DriftSettings is a stand-in with the same prefix and no
fields, so the command keeps working without the drift section.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.paths import REPO_ROOT

ENV_PREFIX = "MONITOR_"
DRIFT_AVAILABLE = find_spec("monitoring.drift") is not None

if DRIFT_AVAILABLE:
    from monitoring.drift import DriftSettings
else:  # drift.py has not landed: the same prefix, no drift fields

    class DriftSettings(BaseSettings):  # type: ignore[no-redef]
        model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

        @property
        def thresholds(self) -> dict[str, float]:
            return {}


class MonitorSettings(DriftSettings):
    """What `python -m monitoring` needs beyond the pipeline's folders."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    monitoring_dir: Path = Field(
        default=REPO_ROOT / "data" / "monitoring",
        validation_alias=AliasChoices("monitoring_dir", "MONITORING_DIR"),
        description="where monitor.json and report.html go (env MONITORING_DIR)",
    )
    reliability_bins: int = Field(
        default=10,
        ge=2,
        le=100,
        description="equal-width probability bins of the reliability tables "
        "(env MONITOR_RELIABILITY_BINS)",
    )

    @field_validator("monitoring_dir")
    @classmethod
    def _anchor_at_checkout(cls, value: Path) -> Path:
        return (REPO_ROOT / value).resolve()

    @property
    def json_path(self) -> Path:
        return self.monitoring_dir / "monitor.json"

    @property
    def html_path(self) -> Path:
        return self.monitoring_dir / "report.html"
