"""Shared fixtures: one local Spark session, and per dataset one dbt build + one backfill run
on the same raw folder with the as-of grid set to dbt's."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from backfill.job import BackfillRequest, BackfillSummary, run
from backfill.session import build_session
from ingest.dbt_vars import dbt_vars
from ingest.paths import REPO_ROOT
from tests.backfill.raw_builder import build_raw

TEST_SPARK_CONF = {
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.default.parallelism": "2",
}


@pytest.fixture(scope="session")
def spark():
    session = build_session("local[2]", app_name="backfill-tests", conf=TEST_SPARK_CONF)
    yield session
    session.stop()


def run_dbt(raw: Path, work: Path) -> Path:
    """`dbt build` on ``raw`` with everything it writes kept under ``work``."""
    features = work / "features"
    features.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "RAW_DIR": str(raw),
        "DUCKDB_PATH": str(work / "w.duckdb"),
        "FEATURES_DIR": str(features),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
    }
    dbt = Path(sys.executable).with_name("dbt")
    done = subprocess.run(
        [str(dbt), "build", "--quiet"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"dbt build failed:\n{done.stdout}\n{done.stderr}"
    return features


def dbt_grid(features: Path) -> tuple[date, date, int]:
    """(start, end, every) that reproduce dbt's as-of grid, from dbt's vars and the latest
    purchase date (dbt's newest as-of date)."""
    with duckdb.connect() as con:
        (latest,) = con.execute(
            "select max(as_of_date) from read_parquet(?)",
            [str(features / "customer_features.parquet")],
        ).fetchone()
    every, count = int(dbt_vars()["snapshot_every_days"]), int(dbt_vars()["snapshot_count"])
    return latest - timedelta(days=every * count), latest, every


@dataclass
class ParityCase:
    raw: Path
    dbt_features: Path
    backfill: Path
    summary: BackfillSummary
    grid: tuple[date, date, int]


def parity_case(spark, tmp: Path, raw: Path) -> ParityCase:
    features = run_dbt(raw, tmp / "dbt")
    start, end, every = dbt_grid(features)
    summary = run(
        spark,
        BackfillRequest(
            input_dir=str(raw),
            output_dir=str(tmp / "backfill"),
            start=start,
            end=end,
            every_days=every,
            label_window_days=int(dbt_vars()["label_window_days"]),
            dates_per_batch=16,
            progress=False,
        ),
    )
    return ParityCase(raw, features, tmp / "backfill", summary, (start, end, every))


@pytest.fixture(scope="session")
def clean_case(spark, tmp_path_factory) -> ParityCase:
    tmp = tmp_path_factory.mktemp("clean")
    return parity_case(spark, tmp, build_raw(tmp / "raw"))


@pytest.fixture(scope="session")
def dirty_case(spark, tmp_path_factory) -> ParityCase:
    tmp = tmp_path_factory.mktemp("dirty")
    return parity_case(spark, tmp, build_raw(tmp / "raw", dirty=True))


# Two years straddling the first year the holiday calendar covers: as-of dates before it get
# NULL calendar features (not "4,216 days to the next holiday"), and both engines must agree.
OLD_HISTORY_START = date(1999, 7, 1)


@pytest.fixture(scope="session")
def old_case(spark, tmp_path_factory) -> ParityCase:
    tmp = tmp_path_factory.mktemp("old")
    return parity_case(spark, tmp, build_raw(tmp / "raw", history_start=OLD_HISTORY_START))


@pytest.fixture(scope="session")
def generated_case(spark, tmp_path_factory) -> ParityCase:
    """The other team's generator, when it is there and works; never a dependency."""
    tmp = tmp_path_factory.mktemp("generated")
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "ingest.generate",
                "--customers",
                "300",
                "--seed",
                "5",
                "--out",
                str(tmp / "raw"),
                "--dirty-rate",
                "0.02",
                "--no-progress",
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"ingest.generate could not run: {error}")
    if done.returncode != 0 or not (tmp / "raw" / "transactions.parquet").exists():
        pytest.skip(f"ingest.generate is not usable here: {done.stderr.strip()[-300:]}")
    return parity_case(spark, tmp, tmp / "raw")


SMALL_GRID = {"start": date(2024, 6, 1), "end": date(2024, 12, 31), "every_days": 14}
PINNED_NOW = "2026-01-01T00:00:00"


def small_request(raw: Path, output: Path, **overrides) -> BackfillRequest:
    from datetime import datetime

    options = {
        **SMALL_GRID,
        "label_window_days": 30,
        "dates_per_batch": 4,
        "progress": False,
        "now": datetime.fromisoformat(PINNED_NOW),
        **overrides,
    }
    return BackfillRequest(input_dir=str(raw), output_dir=str(output), **options)


@dataclass
class SmallCase:
    raw: Path
    reference: Path


@pytest.fixture(scope="session")
def small_case(spark, tmp_path_factory) -> SmallCase:
    """A 60-customer dirty sample and its backfill by the local session: the reference the
    restart and cluster tests compare against."""
    tmp = tmp_path_factory.mktemp("small")
    raw = build_raw(tmp / "raw", customers=60, seed=3, dirty=True)
    run(spark, small_request(raw, tmp / "reference"))
    return SmallCase(raw, tmp / "reference")
