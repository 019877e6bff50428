"""Command line: ``python -m backfill --start DATE [--end DATE|latest] --every 7d …``.

On a cluster, spark-submit runs the same code through ``backfill_submit.py`` at the repository
root (with the package shipped via --py-files), with the master spark-submit was given.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date, datetime

from backfill import grid
from ingest.dbt_vars import label_window_days


def _date_or_latest(text: str) -> date | None:
    return None if text == "latest" else date.fromisoformat(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m backfill",
        description=(
            "Compute customer_features and customer_labels (the dbt marts' columns, types and "
            "meaning) from the raw landing files for many as-of dates with PySpark, locally or "
            "on a cluster. As-of dates are END, END-N, END-2N, … down to the first one >= "
            "START (dates before the first purchase are dropped); labels only for dates whose "
            "window is fully observed. Output: <output>/<table>/as_of_date=YYYY-MM-DD/, each "
            "partition replaced atomically and marked with _SUCCESS."
        ),
        epilog=(
            "Reproduce dbt's grid: --end latest --every <snapshot_every_days>d --start "
            "<latest - snapshot_count*snapshot_every_days>. Example: python -m backfill "
            "--start 2024-01-01 --end 2024-12-31 --every 7d --master 'local[*]'"
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        required=True,
        help="earliest as-of date (YYYY-MM-DD), inclusive",
    )
    parser.add_argument(
        "--end",
        type=_date_or_latest,
        default="latest",
        help="latest as-of date (YYYY-MM-DD), inclusive; 'latest' = the "
        "latest purchase date in the data",
    )
    parser.add_argument(
        "--every",
        type=grid.parse_every,
        default="7d",
        help="spacing of as-of dates, counted back from --end: 7d, 2w, 30",
    )
    parser.add_argument(
        "--master",
        default=None,
        help="Spark master: local[*], local[2], spark://HOST:PORT, yarn, "
        "k8s://…; default: whatever spark-submit set, else local[*]",
    )
    parser.add_argument(
        "--input",
        default="data/raw",
        help="folder with transactions.parquet (and optional customers.parquet); "
        "any Hadoop path: file:, hdfs://, s3a://, gs://",
    )
    parser.add_argument("--output", default="data/backfill", help="output folder (any Hadoop path)")
    parser.add_argument(
        "--label-window",
        type=int,
        default=label_window_days(),
        help="label window in days (dbt var label_window_days)",
    )
    parser.add_argument(
        "--dates-per-batch",
        type=int,
        default=8,
        help="as-of dates computed and published per Spark job",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="skip as-of dates whose partitions are already complete (marker "
        "present) instead of recomputing and replacing them",
    )
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=None,
        help="cut-off for the future_order_date reject rule (dbt uses "
        "current_timestamp); default: now, UTC. Pin it for reproducible "
        "reruns",
    )
    parser.add_argument(
        "--shuffle-partitions",
        type=int,
        default=None,
        help="spark.sql.shuffle.partitions (default: 4 × cores for local "
        "masters, Spark's own elsewhere)",
    )
    parser.add_argument(
        "--driver-memory",
        default="4g",
        help="driver JVM heap for local masters (the driver is the executor there); "
        "cluster runs take spark-submit's --driver-memory / --executor-memory",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def _master_from_spark_submit() -> str | None:
    """The master spark-submit was given, when spark-submit started this process.

    spark-submit starts its JVM first and tells Python where to find it (PYSPARK_GATEWAY_PORT);
    its --master is a system property of that JVM, so a SparkConf can only see it once the
    gateway is connected. (Without this, a submitted job quietly ran in local mode.)
    """
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        return None
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()
    return SparkConf().get("spark.master", None)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr
    )
    # imported late so that --help answers without starting (or importing) Spark
    from backfill.job import BackfillRequest, run
    from backfill.session import build_session, master_conf

    master = args.master or _master_from_spark_submit() or "local[*]"
    conf = master_conf(master, args.shuffle_partitions, args.driver_memory)
    spark = build_session(master, conf=conf)
    try:
        summary = run(
            spark,
            BackfillRequest(
                input_dir=args.input,
                output_dir=args.output,
                start=args.start,
                end=args.end,
                every_days=args.every,
                label_window_days=args.label_window,
                dates_per_batch=args.dates_per_batch,
                resume=args.resume,
                now=args.now,
                progress=not args.no_progress,
            ),
        )
    finally:
        spark.stop()
    for line in summary.lines():
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
