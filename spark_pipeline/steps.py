"""The five steps of the Spark path, in order, each timed and logged.

1. backfill: the dbt marts' rows for every as-of date (`backfill.job.run`) → <out>/backfill
2. training set: labels joined point-in-time to features on Spark → <out>/training_set
3. fit: a stratified, seeded sample to the driver (<work>/sample) and `modeling.train` on it
   → <models>/current
4. scores: every customer of the newest as-of date (`scoring.spark_job.run`) → <out>/scores
5. online: the newest features into Redis, written by the executors in Feast's layout

<out> is any Hadoop path the cluster writes (file:, hdfs://, s3a://, gs://); <work> (the
sample and the Feast registry) and <models> are on the driver's disk; the model folder must
also be readable by every executor (scoring loads it there): a shared filesystem on a
cluster, the same path on one machine.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from pyspark.sql import SparkSession

from backfill.job import BackfillRequest
from backfill.job import run as run_backfill
from backfill.spec import FEATURES_MODEL
from feature_repo.definitions import build as build_definitions
from feature_repo.store import apply_definitions, open_store
from scoring.spark_job import run as score_on_spark
from spark_pipeline import fit, materialize_redis, training_set

log = logging.getLogger("spark_pipeline")

STEPS = ("backfill", "training set", "fit", "scores", "online")


@dataclass
class PipelineRequest:
    raw: str
    out: str
    work: Path
    models_dir: Path
    redis: str
    start: date
    end: date | None
    every_days: int
    label_window_days: int
    train_argv: list[str]
    sample_rows: int = 600_000
    seed: int = 42
    dates_per_batch: int = 8
    now: datetime | None = None
    redis_partitions: int | None = None
    skip_backfill: bool = False

    @property
    def backfill(self) -> str:
        return f"{self.out.rstrip('/')}/backfill"

    @property
    def training_set(self) -> str:
        return f"{self.out.rstrip('/')}/training_set"

    @property
    def scores(self) -> str:
        return f"{self.out.rstrip('/')}/scores"

    @property
    def sample(self) -> Path:
        return self.work / "sample"


@dataclass
class PipelineSummary:
    seconds: dict[str, float] = field(default_factory=dict)
    facts: dict[str, object] = field(default_factory=dict)
    status: int = 0

    def lines(self) -> list[str]:
        width = max(len(s) for s in STEPS)
        out = [f"{name:<{width}}  {self.seconds[name]:7.1f} s" for name in self.seconds]
        out.append(f"{'total':<{width}}  {sum(self.seconds.values()):7.1f} s")
        return out + [f"{k}: {v}" for k, v in self.facts.items()]


class _Steps:
    """Runs and times each step, logging '[i/5] name …' before and its result after."""

    def __init__(self, summary: PipelineSummary) -> None:
        self.summary = summary
        self.i = 0

    def start(self, name: str) -> float:
        self.i += 1
        log.info("[%d/%d] %s …", self.i, len(STEPS), name)
        return time.perf_counter()

    def done(self, name: str, started: float, result: str) -> None:
        self.summary.seconds[name] = round(time.perf_counter() - started, 1)
        log.info("[%d/%d] %s: %s (%.1f s)", self.i, len(STEPS), name, result,
                 self.summary.seconds[name])  # fmt: skip


def local_path(path: str) -> Path | None:
    """A path on this machine for a Hadoop-style path when it is one (file: or plain)."""
    if path.startswith("file:"):
        return Path(path.removeprefix("file:").removeprefix("//"))
    return None if "://" in path else Path(path)


def run(spark: SparkSession, request: PipelineRequest) -> PipelineSummary:
    summary = PipelineSummary()
    steps = _Steps(summary)
    facts = summary.facts

    started = steps.start("backfill")
    if request.skip_backfill:
        steps.done("backfill", started, f"skipped, reusing {request.backfill}")
    else:
        backfilled = run_backfill(
            spark,
            BackfillRequest(
                input_dir=request.raw,
                output_dir=request.backfill,
                start=request.start,
                end=request.end,
                every_days=request.every_days,
                label_window_days=request.label_window_days,
                dates_per_batch=request.dates_per_batch,
                now=request.now,
                progress=False,
            ),
        )
        facts["feature rows"] = backfilled.feature_rows
        facts["label rows"] = backfilled.label_rows
        steps.done("backfill", started, f"{backfilled.customers:,} customers, "
                   f"{len(backfilled.as_of_dates)} as-of dates")  # fmt: skip

    # the Feast objects the local path uses: their TTL for the join, their views for Redis
    local_backfill = local_path(request.backfill)
    definitions = build_definitions(local_backfill or request.work)
    (ttl,) = {view.ttl for view in definitions.views}
    started = steps.start("training set")
    rows = training_set.build(spark, request.backfill, request.training_set, ttl)
    facts["training rows"] = rows
    steps.done("training set", started, f"{rows:,} rows (TTL {ttl.days} days)")

    started = steps.start("fit")
    shutil.rmtree(request.sample, ignore_errors=True)
    drawn, _ = training_set.sample(
        spark, request.training_set, request.sample_rows, request.seed, request.sample
    )
    facts["sampled rows"] = f"{drawn.rows:,} of {drawn.of:,} over {drawn.dates} as-of dates"
    log.info("sample: %s rows of %s to the driver (%s)", f"{drawn.rows:,}", f"{drawn.of:,}",
             request.sample)  # fmt: skip
    summary.status = fit.fit(request.train_argv)
    if summary.status != 0:
        steps.done("fit", started, f"modeling.train exited {summary.status}: stopping")
        return summary
    steps.done("fit", started, f"model {(request.models_dir / 'current').resolve().name}")

    started = steps.start("scores")
    scored = score_on_spark(
        spark,
        f"{request.backfill}/{FEATURES_MODEL}",
        request.models_dir / "current",
        request.scores,
    )
    facts["scored"] = f"{scored['customers']:,} customers as of {scored['as_of_date']}"
    tiers = ", ".join(f"{t} {scored['tiers'].get(t, 0):,}" for t in ("high", "medium", "low"))
    steps.done("scores", started, f"{scored['customers']:,} customers ({tiers})")

    started = steps.start("online")
    (request.work / "feast").mkdir(parents=True, exist_ok=True)
    store = open_store(data_dir=request.work / "feast", redis_url=request.redis)
    apply_definitions(store, features_dir=local_backfill or request.work)
    written = materialize_redis.materialize(
        store,
        spark.read.parquet(f"{request.backfill}/{FEATURES_MODEL}"),
        request.redis_partitions,
    )
    facts["online"] = f"{written:,} customers in Redis at {request.redis}"
    steps.done("online", started, f"{written:,} customers written to Redis {request.redis}")

    (request.work / "stages.json").write_text(
        json.dumps({"seconds": summary.seconds, "facts": facts}, indent=2, default=str)
    )
    return summary
