"""Every knob of the API in one object, read from API_* environment variables (or .env).

The models folder defaults to the pipeline's (`ingest.paths.PipelinePaths`, MODELS_DIR), the
one training promotes into; API_MODELS_DIR overrides it for the API alone.

Values are validated when the app is created, so a bad setting stops `uvicorn api.main:app`
before it serves anything, with a message naming the variable, not at the first request.

Tiers, verdict and action follow one rule (modeling.decision): below the model's own threshold
(chosen on validation data at training time) is "low" and not likely to buy again; from the
threshold up is likely to buy again, "high" from the high cut-off on, "medium" below it. The
high cut-off is a probability, API_TIER_HIGH (0.6), or a capacity, API_TIER_HIGH_TOP_PERCENT
("the top N %" of the model's validation scores). API_TIER_MEDIUM is refused: the medium tier
starts at the model's threshold, so tier and verdict can never disagree.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from ingest.paths import REPO_ROOT, pipeline_paths
from modeling.decision import TierSettings

MIN_ADMIN_TOKEN_LENGTH = 16


class Settings(TierSettings):
    model_config = SettingsConfigDict(env_prefix="API_", env_file=".env", extra="ignore")

    # where the model comes from: <models_dir>/current, a symlink to the promoted version;
    # default: the pipeline's models folder (MODELS_DIR, where `python -m modeling.train`
    # promotes), so API_MODELS_DIR is only needed to serve models from somewhere else
    models_dir: Path = Field(default_factory=lambda: pipeline_paths().models_dir)
    # Feast: the yaml in force (default: FEAST_FS_YAML_FILE_PATH, else the SQLite yaml),
    # optionally with the registry/SQLite file moved to feast_data_dir or Redis at redis_url
    feast_yaml: Path | None = None
    feast_data_dir: Path | None = None
    redis_url: str | None = Field(default=None, description="host:port of a Redis online store")

    # tier_high, tier_high_top_percent: from TierSettings (modeling.decision), the batch
    # scorer's too
    # no longer a setting (see the module docstring); kept only to refuse it with a message
    tier_medium: float | None = Field(default=None, exclude=True)
    # features older than this are served with stale=true (the nightly load plus slack)
    stale_after_hours: float = Field(default=48, gt=0)
    batch_max: int = Field(default=1000, ge=1, le=10_000)
    top_reasons: int = Field(default=5, ge=0, le=50)
    # POST /admin/reload needs this in X-Admin-Token; unset disables the endpoint
    admin_token: SecretStr | None = None
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    # keep up to this many scored answers per worker (~3 KB each), keyed by (model version,
    # customer id, features-as-of, every feature value): the same inputs give the same
    # answer, so a repeat skips the model; 0 scores every request
    result_cache_size: int = Field(default=20_000, ge=0, le=10_000_000)
    # keep up to this many customers' online features per worker, emptied whenever the online
    # database changes (SQLite's data_version), so never stale; 0 = off. SQLite only: Redis
    # has no such commit counter, so it is read on every request
    feature_cache_size: int = Field(default=20_000, ge=0, le=10_000_000)
    # while no model or store is loaded, requests retry loading at most this often
    retry_load_seconds: float = Field(default=5, ge=0)
    # GET /insights: the segment_repeat_rates mart (default: FEATURES_DIR's, where dbt writes
    # it), and the fewest customers a group needs before a claim about it gets a verdict
    segment_rates_path: Path | None = None
    insights_min_customers: int = Field(default=100, ge=1, le=1_000_000)
    # GET /audiences: the customer_scores file (default: SCORES_DIR's customer_scores.parquet,
    # where `python -m scoring` writes it) and the most customers one page may ask for
    scores_path: Path | None = None
    audience_page_max: int = Field(default=500, ge=1, le=10_000)
    # GET /monitoring: the monitor.json `python -m monitoring` writes (default: MONITORING_DIR's)
    monitoring_path: Path | None = None

    # the serve log (api/serve_log.py): every answered prediction, one Parquet file per flush
    # under <serve_log_dir>/date=YYYY-MM-DD/, each worker its own files; relative to the
    # checkout like the pipeline's folders. At most serve_log_queue_rows rows wait per worker
    # (more are dropped and counted); a file is written every serve_log_flush_seconds or as
    # soon as serve_log_flush_rows wait; an unwritable folder is counted, never fatal
    serve_log_enabled: bool = True
    serve_log_dir: Path = REPO_ROOT / "data" / "serve_log"
    serve_log_queue_rows: int = Field(default=100_000, ge=1, le=10_000_000)
    serve_log_flush_seconds: float = Field(default=10, gt=0, le=3600)
    serve_log_flush_rows: int = Field(default=20_000, ge=1, le=10_000_000)

    # used by `python -m api`, the Dockerfile and docker-compose (uvicorn's own flags win)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # `python -m api` only: worker processes (one per core; each loads the model)
    workers: int = Field(default=2, ge=1, le=64)
    # `python -m api` only: POST /admin/reload answers 503, naming the workers that did not
    # confirm the new model within this many seconds (each loads it itself)
    reload_timeout_seconds: float = Field(default=60, gt=0, le=3600)
    # `python -m api` only: a dead worker is restarted, unless more than this many workers
    # died within the window; then the server stops and exits non-zero (crash loop)
    worker_restart_limit: int = Field(default=5, ge=0, le=1000)
    worker_restart_window_seconds: float = Field(default=60, gt=0)

    @property
    def stale_after(self) -> timedelta:
        return timedelta(hours=self.stale_after_hours)

    @property
    def model_dir(self) -> Path:
        return self.models_dir / "current"

    @field_validator("serve_log_dir")
    @classmethod
    def _anchor_at_checkout(cls, value: Path) -> Path:
        return (REPO_ROOT / value).resolve()

    @field_validator("admin_token")
    @classmethod
    def _token_is_strong(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < MIN_ADMIN_TOKEN_LENGTH:
            raise ValueError(
                f"API_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_LENGTH} characters "
                "(or unset, which disables /admin/reload)"
            )
        return token

    @field_validator("redis_url")
    @classmethod
    def _redis_is_host_port(cls, url: str | None) -> str | None:
        if url is None:
            return None
        host, _, port = url.split(",")[0].rpartition(":")
        if not host or not port.isdigit():
            raise ValueError("API_REDIS_URL must look like host:port[,password=…]")
        return url

    @field_validator("feast_yaml")
    @classmethod
    def _yaml_exists(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"API_FEAST_YAML={path} is not a file")
        return path

    @field_validator("tier_medium")
    @classmethod
    def _no_medium_cut_off(cls, value: float | None) -> None:
        if value is not None:
            raise ValueError(
                "API_TIER_MEDIUM is no longer used: the medium tier starts at the model's "
                "threshold (so a medium-tier customer is always likely to buy again); unset it "
                "and set API_TIER_HIGH or API_TIER_HIGH_TOP_PERCENT"
            )
        return None
