"""Command line: ``python -m spark_pipeline --master spark://host:7077 --raw … --out … --redis …``.

The driver runs here (client mode): it fits the model and holds the Feast registry, so the
command runs on a machine with this checkout, against any master (spark://, yarn, k8s://,
local[*]). Executors import the project from --code-path (this checkout's path by default:
the same path on every node, or a shared filesystem), as `python -m scoring.spark_job` does.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date, datetime
from pathlib import Path

from backfill import grid
from ingest.dbt_vars import label_window_days
from ingest.paths import REPO_ROOT, pipeline_paths


def _date_or_latest(text: str) -> date | None:
    return None if text == "latest" else date.fromisoformat(text)


def build_parser() -> argparse.ArgumentParser:
    paths = pipeline_paths()
    parser = argparse.ArgumentParser(
        prog="python -m spark_pipeline",
        description=(
            "The whole product on Spark, in order, with a progress log: (1) backfill the "
            "marts from the raw files, (2) build the point-in-time training set on Spark "
            "(Feast's rule: the latest feature row at or before each label, within the "
            "views' TTL), (3) collect a seeded sample stratified by as-of date to this "
            "machine and fit it with modeling.train (gate, champion/challenger, report), "
            "(4) score every customer of the newest as-of date on Spark, (5) write the "
            "newest features into Redis from the executors, partition by partition, in the "
            "layout the API reads. Exit 2 when the model does not beat recency."
        ),
        epilog=(
            "Example: python -m spark_pipeline --master spark://host:7077 --raw "
            "hdfs:///landing/raw --out hdfs:///repeat/run1 --work /srv/repeat/run1 "
            "--models-dir /shared/models --redis redis-host:6379 --start 2024-01-01 "
            "--every 30d"
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--master", default="local[*]", help="Spark master: "
                        "spark://HOST:PORT, yarn, k8s://…, local[*]")  # fmt: skip
    parser.add_argument("--raw", required=True, help="folder with transactions.parquet (and "
                        "optional customers.parquet); any Hadoop path")  # fmt: skip
    parser.add_argument("--out", required=True, help="where Spark writes backfill/, "
                        "training_set/ and scores/; any Hadoop path")  # fmt: skip
    parser.add_argument("--work", type=Path, default=None, help="a folder on this machine "
                        "for the fit sample and the Feast registry; default: --out when "
                        "that is a local path")  # fmt: skip
    parser.add_argument("--models-dir", type=Path, default=paths.models_dir,
                        help="where modeling.train writes <version>/ and current; executors "
                        "read the model there")  # fmt: skip
    parser.add_argument("--redis", required=True, help="the online store, HOST:PORT")
    parser.add_argument("--start", type=date.fromisoformat, required=True,
                        help="earliest as-of date (YYYY-MM-DD)")  # fmt: skip
    parser.add_argument("--end", type=_date_or_latest, default="latest",
                        help="latest as-of date, or 'latest' purchase date")  # fmt: skip
    parser.add_argument("--every", type=grid.parse_every, default="30d",
                        help="spacing of as-of dates: 7d, 2w, 30")  # fmt: skip
    parser.add_argument("--label-window", type=int, default=label_window_days(),
                        help="label window in days (dbt var label_window_days)")  # fmt: skip
    parser.add_argument("--sample-rows", type=int, default=600_000,
                        help="training rows collected to the driver, the same share of every "
                        "as-of date; 0 = all (modeling.train then fits on at most "
                        "--max-train-rows of the training dates' rows)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=42, help="seed of the sample")
    parser.add_argument("--train", default="", help="more modeling.train flags, quoted, e.g. "
                        "\"--models xgb --cv-folds 3\" (TRAIN_* variables work too)")  # fmt: skip
    parser.add_argument("--now", type=datetime.fromisoformat, default=None,
                        help="the backfill's future-order cut-off; default: now, UTC")  # fmt: skip
    parser.add_argument("--redis-partitions", type=int, default=None,
                        help="executor tasks writing to Redis; default: the input's")  # fmt: skip
    parser.add_argument("--skip-backfill", action="store_true",
                        help="reuse <out>/backfill from an earlier run")  # fmt: skip
    parser.add_argument("--shuffle-partitions", type=int, default=None,
                        help="spark.sql.shuffle.partitions (default: 4 × cores for local "
                        "masters, Spark's own elsewhere)")  # fmt: skip
    parser.add_argument("--driver-memory", default="4g",
                        help="driver heap for local masters")  # fmt: skip
    parser.add_argument("--code-path", default=str(REPO_ROOT),
                        help="where executors import the project from")  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )  # fmt: skip
    logging.getLogger("feast").setLevel(logging.WARNING)
    # imported late so that --help answers without starting (or importing) Spark
    from backfill.session import build_session, master_conf
    from spark_pipeline import fit, steps

    work = args.work or steps.local_path(args.out)
    if work is None:
        print("error: --out is not a local path: give --work, a folder on this machine",
              file=sys.stderr)  # fmt: skip
        return 2
    work = work.resolve()
    if args.sample_rows < 0:
        print("error: --sample-rows must be 0 (all) or more", file=sys.stderr)
        return 2
    raw = steps.local_path(args.raw)
    train_argv = fit.train_argv(
        work / "sample",
        args.models_dir.resolve(),
        args.label_window,
        raw if raw and raw.is_dir() else None,
        args.train,
    )
    fit.check_train_args(train_argv)

    conf = master_conf(args.master, args.shuffle_partitions, args.driver_memory)
    conf["spark.executorEnv.PYTHONPATH"] = args.code_path
    spark = build_session(args.master, app_name="repeat-purchase-spark-pipeline", conf=conf)
    request = steps.PipelineRequest(
        raw=args.raw,
        out=args.out,
        work=work,
        models_dir=args.models_dir.resolve(),
        redis=args.redis,
        start=args.start,
        end=args.end,
        every_days=args.every,
        label_window_days=args.label_window,
        train_argv=train_argv,
        sample_rows=args.sample_rows,
        seed=args.seed,
        now=args.now,
        redis_partitions=args.redis_partitions,
        skip_backfill=args.skip_backfill,
    )
    try:
        summary = steps.run(spark, request)
    finally:
        spark.stop()
    print("\n".join(summary.lines()))
    return summary.status


if __name__ == "__main__":
    sys.exit(main())
