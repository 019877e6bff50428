"""The Spark twin on the suite's standalone cluster (one master, two workers on loopback):
over features laid out as the backfill writes them (``as_of_date=YYYY-MM-DD`` folders), it
writes exactly the rows the local command writes from the same input."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from ingest.paths import REPO_ROOT
from scoring.schema import SCHEMA, SCORES_FILE
from scoring.score_all import score_all
from tests.backfill.test_cluster import standalone_cluster  # noqa: F401  (the fixture)

PARTITIONING = ds.partitioning(pa.schema([("as_of_date", pa.date32())]), flavor="hive")


def backfill_layout(mart, out, dates: int = 2):
    """The mart's last `dates` as-of dates as the backfill writes them."""
    table = pq.read_table(mart)
    for as_of in sorted(set(table.column("as_of_date").to_pylist()))[-dates:]:
        part = table.filter(pc.equal(table.column("as_of_date"), pa.scalar(as_of)))
        folder = out / f"as_of_date={as_of.isoformat()}"
        folder.mkdir(parents=True)
        pq.write_table(part.drop_columns(["as_of_date"]), folder / "part-00000.parquet")
    return out


@pytest.mark.slow
def test_spark_job_on_the_cluster_equals_the_local_command(
    standalone_cluster,  # noqa: F811
    warehouse,
    trained_models,
    tmp_path,
):
    master, _ = standalone_cluster
    features = backfill_layout(
        warehouse.features_dir / "customer_features.parquet", tmp_path / "backfill"
    )
    model = trained_models / "current"
    local = score_all(features, model, tmp_path / "local", progress=False)
    env = {
        **os.environ,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }
    done = subprocess.run(
        [sys.executable, "-m", "scoring.spark_job", "--master", master, "--input",
         str(features), "--output", str(tmp_path / "spark"), "--model", str(model)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"scored {local.customers:,} customers" in done.stdout

    spark = ds.dataset(tmp_path / "spark", format="parquet", partitioning=PARTITIONING).to_table()
    columns = [n for n in SCHEMA.names if n != "scored_at"]
    got = spark.select(columns).to_pandas().sort_values("customer_id", ignore_index=True)
    expected = (
        pq.read_table(tmp_path / "local" / SCORES_FILE)
        .select(columns)
        .to_pandas()
        .sort_values("customer_id", ignore_index=True)
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


@pytest.mark.slow
def test_spark_job_on_a_local_master_runs_its_python_workers_in_this_environment(
    warehouse, trained_models, tmp_path
):
    # without PYSPARK_PYTHON, a local master's workers started `python3` from PATH, which
    # need not have pandas: "ModuleNotFoundError: No module named 'pandas'" in mapInPandas
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")
    }
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    env["PATH"] = "/usr/bin:/bin"  # a python3 without this venv's packages, as on a fresh shell
    done = subprocess.run(
        [sys.executable, "-m", "scoring.spark_job", "--master", "local[1]", "--input",
         str(warehouse.features_dir / "customer_features.parquet"), "--output",
         str(tmp_path / "spark"), "--model", str(trained_models / "current")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "scored " in done.stdout
