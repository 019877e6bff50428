"""Every customer scored on Spark, for feature sets beyond one machine: the twin of
`python -m scoring`, over the Spark backfill's output.

`python -m scoring.spark_job --input <backfill out>/customer_features --output <folder>
[--master spark://host:7077] [--as-of YYYY-MM-DD]`

The rows of one as-of date are scored by `mapInPandas` calling the same
scoring.chunks.ChunkScorer.score as the local command (the same model path: the compiled fast
path, else the libraries), with the decision rule and the scoring time fixed once on the
driver, so the two can differ only in how rows reach the scorer. Each executor loads the model
once per Python worker from `--model` (a path every executor can read: the same checkout or a
shared filesystem). The output is the customer_scores schema, partitioned by as_of_date
(``<output>/as_of_date=YYYY-MM-DD/part-*.parquet``); rescoring a date overwrites that
partition only (dynamic partition overwrite), earlier dates are kept.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

import pandas as pd
import pyarrow as pa

from ingest.paths import REPO_ROOT, pipeline_paths
from modeling.fast_path import compile_or_none
from scoring.chunks import ChunkScorer
from scoring.decisions import Decider
from scoring.schema import SCHEMA
from scoring.score_all import ScoringError, load_scorer

log = logging.getLogger("scoring.spark_job")

SPARK_TYPES = {
    pa.string(): "string",
    pa.date32(): "date",
    pa.float64(): "double",
    pa.bool_(): "boolean",
    pa.int64(): "bigint",
    pa.timestamp("us", tz="UTC"): "timestamp",
}


def spark_schema() -> str:
    """SCHEMA as a Spark DDL string (mapInPandas' output schema)."""
    return ", ".join(f"`{f.name}` {SPARK_TYPES[f.type]}" for f in SCHEMA)


@cache
def _executor_model(model_dir: str):
    """The model, loaded once per executor Python worker."""
    from modeling.artifact import load_model

    return load_model(Path(model_dir))


def score_partitions(model_dir: str, decider: Decider, scored_at: datetime):
    """The function mapInPandas runs on each partition: frames in, customer_scores out."""

    def score(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        model = _executor_model(model_dir)
        scorer = ChunkScorer(model, compile_or_none(model, "scored"), decider)
        for frame in frames:
            if len(frame):
                yield scorer.score(frame, scored_at)

    return score


def run(spark, features: str, model_dir: Path, output: str, as_of: date | None = None) -> dict:
    """Score every customer of `as_of` (default: the latest date in `features`)."""
    from pyspark.sql import functions as F

    scorer = load_scorer(model_dir)  # on the driver: a missing model fails here, plainly
    resolved = str(model_dir.resolve())
    rows = spark.read.parquet(features)
    if as_of is None:
        as_of = rows.agg(F.max("as_of_date")).first()[0]
        if as_of is None:
            raise ScoringError(f"{features} holds no rows: nothing to score")
    day = rows.where(F.col("as_of_date") == F.lit(as_of))
    scored = day.mapInPandas(
        score_partitions(resolved, scorer.decider, datetime.now(UTC)), schema=spark_schema()
    )
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    scored.write.mode("overwrite").partitionBy("as_of_date").parquet(output)
    written = spark.read.parquet(output).where(F.col("as_of_date") == F.lit(as_of))
    tiers = {r["tier"]: r["count"] for r in written.groupBy("tier").count().collect()}
    return {"as_of_date": as_of, "customers": sum(tiers.values()), "tiers": tiers}


def main(argv: list[str] | None = None) -> int:
    paths = pipeline_paths()
    parser = argparse.ArgumentParser(
        prog="python -m scoring.spark_job",
        description="Score every customer of the latest as-of date of the Spark backfill's "
        "customer_features output with the promoted model, on Spark (mapInPandas over the "
        "local command's chunk scorer); output partitioned by as_of_date.",
    )
    parser.add_argument("--input", required=True, help="the backfill's customer_features folder")
    parser.add_argument("--output", required=True, help="where the scores go (a folder)")
    parser.add_argument("--model", type=Path, default=paths.models_dir / "current")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None)
    parser.add_argument("--master", default=None, help="default: spark-submit's --master")
    parser.add_argument(
        "--code-path",
        default=str(REPO_ROOT),
        help="where executors import the project from (default: this checkout)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from backfill.session import build_session

    spark = build_session(
        args.master,
        app_name="repeat-purchase-scoring",
        conf={"spark.executorEnv.PYTHONPATH": args.code_path},
    )
    # the job's functions from the importable module, not this __main__: executors unpickle
    # them by name (scoring.spark_job.score_partitions), never by value
    from scoring.spark_job import run as run_job

    try:
        summary = run_job(spark, args.input, args.model, args.output, args.as_of)
    except ScoringError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        spark.stop()
    tiers = ", ".join(f"{t} {summary['tiers'].get(t, 0):,}" for t in ("high", "medium", "low"))
    print(f"scored {summary['customers']:,} customers as of {summary['as_of_date']} on Spark")
    print(f"tiers: {tiers}")
    print(f"output: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
