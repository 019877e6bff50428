"""Write-then-rename publishing of as-of-date partitions, so reruns replace and readers never
see half a partition.

Layout: ``<output>/<table>/as_of_date=YYYY-MM-DD/part-*.parquet`` plus a ``_SUCCESS`` marker
in each partition (readers skip files starting with '_'; a job that wants certainty checks
the marker). as_of_date lives in the directory name, the standard Hive/Spark layout: Spark,
DuckDB (`hive_partitioning`) and pyarrow datasets read it back as a DATE column.

A batch is written by Spark to ``<output>/_staging/<run>/<table>/``; then, per date, the
finished partition directory (with its marker already inside) is renamed into place, after
moving any previous version aside. A run killed at any point leaves finished partitions
intact and no half-written one visible; rerunning the same range rewrites every partition in
it and touches nothing outside it. Paths go through Hadoop's FileSystem API, so the same code
runs on local disk, HDFS, s3a:// or gs:// (renames are atomic on local disk and HDFS; object
stores copy, which is why the marker exists). One writer per output folder at a time.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from pyspark.sql import DataFrame, SparkSession

MARKER = "_SUCCESS"
STAGING = "_staging"
MAX_RECORDS_PER_FILE = 5_000_000


class PartitionStore:
    """The output folder of a backfill, one subfolder per table."""

    def __init__(self, spark: SparkSession, output: str) -> None:
        self.spark = spark
        self.output = output.rstrip("/")
        jvm = spark.sparkContext._jvm
        self._Path = jvm.org.apache.hadoop.fs.Path
        self.fs = self._Path(self.output).getFileSystem(
            spark.sparkContext._jsc.hadoopConfiguration()
        )
        self.run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]

    def partition_path(self, table: str, as_of: date) -> str:
        return f"{self.output}/{table}/as_of_date={as_of.isoformat()}"

    def is_complete(self, table: str, as_of: date) -> bool:
        return self.fs.exists(self._Path(f"{self.partition_path(table, as_of)}/{MARKER}"))

    def clear_stale_staging(self) -> None:
        """Remove what killed runs left in _staging (never visible to readers anyway)."""
        self.fs.delete(self._Path(f"{self.output}/{STAGING}"), True)

    def write_batch(self, df: DataFrame, table: str, dates: list[date]) -> list[date]:
        """Write ``df`` (rows of ``dates`` only) and publish one partition per date. Returns
        the dates published; a date with no rows gets no partition (and loses an old one)."""
        staging = f"{self.output}/{STAGING}/{self.run_id}/{table}"
        (
            df.repartition("as_of_date")
            .sortWithinPartitions("as_of_date", "customer_id")
            .write.mode("overwrite")
            .option("maxRecordsPerFile", MAX_RECORDS_PER_FILE)
            .partitionBy("as_of_date")
            .parquet(staging)
        )
        published = []
        for as_of in dates:
            source = self._Path(f"{staging}/as_of_date={as_of.isoformat()}")
            target = self._Path(self.partition_path(table, as_of))
            if self.fs.exists(source):
                self._write_marker(source, table, as_of)
                self._replace(source, target)
                published.append(as_of)
            else:
                self.fs.delete(target, True)
        self.fs.delete(self._Path(staging), True)
        return published

    def finish(self) -> None:
        self.fs.delete(self._Path(f"{self.output}/{STAGING}/{self.run_id}"), True)
        staging = self._Path(f"{self.output}/{STAGING}")
        if self.fs.exists(staging) and not self.fs.listStatus(staging):
            self.fs.delete(staging, True)

    def _write_marker(self, folder, table: str, as_of: date) -> None:
        stream = self.fs.create(self._Path(folder, MARKER), True)
        body = json.dumps({"table": table, "as_of_date": as_of.isoformat(), "run": self.run_id})
        stream.write(bytearray(body.encode("utf-8")))
        stream.close()

    def _replace(self, source, target) -> None:
        self.fs.mkdirs(target.getParent())
        if self.fs.exists(target):
            aside = self._Path(
                f"{self.output}/{STAGING}/{self.run_id}/_replaced/"
                f"{target.getParent().getName()}/{target.getName()}"
            )
            self.fs.mkdirs(aside.getParent())
            if not self.fs.rename(target, aside):
                raise OSError(f"could not move {target} aside")
        if not self.fs.rename(source, target):
            raise OSError(f"could not rename {source} to {target}")
