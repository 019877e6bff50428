"""The one place Spark is configured, so the CLI, spark-submit and the tests agree.

Settings that change results are fixed here rather than left to cluster defaults:

* ``spark.sql.session.timeZone=UTC`` — order timestamps have no zone (TIMESTAMP_NTZ, like
  DuckDB's TIMESTAMP); UTC keeps any zone-aware conversion an identity.
* ``spark.sql.ansi.enabled=true`` (Spark 4's default, set explicitly): arithmetic overflow or
  a division by zero is a bug and must fail the job, not become a silent null. Parsing of raw
  text is the one place where "does not parse" is an expected outcome; staging does it with
  explicit ``try_*`` functions and DuckDB-compatible patterns (see :mod:`backfill.staging`).
* ``spark.sql.parquet.outputTimestampType=TIMESTAMP_MICROS`` — microsecond timestamps, as
  DuckDB writes them, and readable by pyarrow/Feast without INT96 surprises.
"""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

RESULT_SETTINGS: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}


def build_session(
    master: str | None = None,
    app_name: str = "repeat-purchase-backfill",
    conf: dict[str, str] | None = None,
) -> SparkSession:
    """Get or create the session. ``master=None`` leaves it to spark-submit (``--master``)."""
    if master and master.startswith("local"):
        # a local master's Python workers would otherwise start `python3` from PATH, which
        # need not be this environment (no pandas for mapInPandas: python -m scoring.spark_job)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    for key, value in {**RESULT_SETTINGS, **(conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    # getOrCreate may return a session someone else built (a notebook, a test fixture):
    # the settings that change results are applied to it too.
    for key, value in RESULT_SETTINGS.items():
        spark.conf.set(key, value)
    spark.sparkContext.setLogLevel("WARN")
    return spark


def master_conf(
    master: str | None, shuffle_partitions: int | None = None, driver_memory: str = "4g"
) -> dict[str, str]:
    """Settings that depend on where the job runs (not on what it computes): the backfill's
    and the Spark pipeline's commands both start their session with these."""
    conf: dict[str, str] = {}
    local = bool(master) and master.startswith("local")
    if shuffle_partitions:
        conf["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
    elif local:
        # Spark's 200 shuffle partitions are for clusters; on one machine they are mostly
        # scheduling overhead (measured: a 20k-customer run did not finish its first batch)
        conf["spark.sql.shuffle.partitions"] = str(4 * (os.cpu_count() or 2))
    if local:
        # In local mode the driver JVM is the only executor, and Spark's default heap is 1 GB:
        # 200,000 customers × 52 dates died with "Unable to acquire 65536 bytes of memory"
        # after spilling ~950 MB per stage. (Only takes effect when this process starts the
        # JVM; under spark-submit use its --driver-memory.)
        conf["spark.driver.memory"] = driver_memory
        # Adaptive execution would merge the shuffle partitions back to ~one per core: a
        # third of a stage's rows in one task, the other core idle at the end of it.
        conf["spark.sql.adaptive.coalescePartitions.enabled"] = "false"
    return conf
