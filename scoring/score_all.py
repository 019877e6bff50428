"""Score every customer of one as-of date of the customer_features mart into customer_scores.

Rows are read in chunks (pyarrow's dataset scanner, only the columns used, only the date
asked for), each chunk scored by scoring.chunks.ChunkScorer and appended to a Parquet writer,
so memory is bounded by the chunk size, not the number of customers. The snapshot
``snapshots/as_of_date=YYYY-MM-DD/customer_scores.parquet`` and the latest
``customer_scores.parquet`` are each written to a temporary name and renamed into place, so a
reader (GET /audiences) sees the old file or the new one, never half of one, and a failed run
leaves both as they were. Re-scoring a date replaces that date's snapshot only.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from tqdm import tqdm

from ingest.memory import GB, Stages, children_peak_rss_bytes
from modeling.artifact import ArtifactError, load_model
from scoring.bands import BANDED
from scoring.chunks import SEGMENT_VALUES, ChunkScorer
from scoring.schema import SCHEMA, SCORES_FILE, SNAPSHOTS_DIR
from scoring.workers import score_batches

log = logging.getLogger("scoring")

CHUNK_ROWS = 100_000
FEATURES_FILE = "customer_features.parquet"
BACKFILL_PARTITIONING = ds.partitioning(pa.schema([("as_of_date", pa.date32())]), flavor="hive")


class ScoringError(RuntimeError):
    """A reason the run cannot start or finish, in words for the operator (exit code 2)."""


@dataclass
class Summary:
    as_of_date: date
    model_version: str
    path: str  # "fast" or "library"
    customers: int = 0
    tiers: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    memory_gb: dict = field(default_factory=dict)  # per stage: peak and current RSS
    workers_peak_rss_gb: float = 0.0  # the largest worker process's own peak
    latest: Path | None = None
    snapshot: Path | None = None

    def lines(self) -> list[str]:
        rate = self.customers / self.seconds if self.seconds else 0.0
        tiers = ", ".join(f"{t} {self.tiers.get(t, 0):,}" for t in ("high", "medium", "low"))
        return [
            f"scored {self.customers:,} customers as of {self.as_of_date} with model "
            f"{self.model_version} ({self.path} path) in {self.seconds:.1f} s ({rate:,.0f}/s)",
            f"tiers: {tiers}",
            f"memory: peak RSS {self.memory_gb.get('total', {}).get('peak_rss_gb')} GB "
            f"(largest worker {self.workers_peak_rss_gb} GB)",
            f"latest:   {self.latest}",
            f"snapshot: {self.snapshot}",
        ]


def snapshot_path(scores_dir: Path, as_of: date) -> Path:
    return scores_dir / SNAPSHOTS_DIR / f"as_of_date={as_of.isoformat()}" / SCORES_FILE


def _dataset(features: Path) -> ds.Dataset:
    """The dbt mart (one file) or the Spark backfill's output (a folder partitioned by
    ``as_of_date=YYYY-MM-DD``): the same columns either way."""
    if features.is_dir():
        return ds.dataset(features, format="parquet", partitioning=BACKFILL_PARTITIONING)
    if not features.is_file():
        raise ScoringError(
            f"no features at {features}: build them first (make features, i.e. dbt build)"
        )
    return ds.dataset(features, format="parquet")


def latest_as_of(features: Path) -> date:
    """The newest as-of date in the mart (from the column's values, not the file name)."""
    column = _dataset(features).to_table(columns=["as_of_date"]).column("as_of_date")
    newest = pc.max(column).as_py()
    if newest is None:
        raise ScoringError(f"{features} holds no rows: nothing to score")
    return newest


def read_batches(
    features: Path, as_of: date, columns: list[str], rows: int
) -> Iterator[pa.RecordBatch]:
    """The mart's rows of `as_of`, at most `rows` at a time, as Arrow batches of `columns`."""
    dataset = _dataset(features)
    present = [c for c in columns if c in dataset.schema.names]
    scanner = dataset.scanner(
        columns=present, filter=pc.field("as_of_date") == pa.scalar(as_of), batch_size=rows
    )
    for batch in scanner.to_batches():
        if batch.num_rows:
            yield batch


def count_rows(features: Path, as_of: date) -> int:
    return _dataset(features).count_rows(filter=pc.field("as_of_date") == pa.scalar(as_of))


def _check_columns(features: Path, names: tuple[str, ...]) -> None:
    missing = [n for n in names if n not in _dataset(features).schema.names]
    if missing:
        raise ScoringError(
            f"{features} lacks the model's features {missing}: rebuild the features "
            "(make features) or retrain (make train)"
        )


def load_scorer(model_dir: Path) -> ChunkScorer:
    if not model_dir.exists():
        raise ScoringError(f"no model at {model_dir}: train one first (make train)")
    try:
        model = load_model(model_dir.resolve())  # follow `current` once: one stable version
    except ArtifactError as exc:
        raise ScoringError(f"the model at {model_dir} cannot be loaded: {exc}") from exc
    return ChunkScorer.for_model(model)


def score_all(
    features: Path,
    model_dir: Path,
    scores_dir: Path,
    *,
    as_of: date | None = None,
    chunk_rows: int = CHUNK_ROWS,
    workers: int = 1,
    progress: bool = True,
) -> Summary:
    """Score every customer of `as_of` (default: the latest date) and write both files."""
    started = time.perf_counter()
    stages = Stages(log)
    scorer = load_scorer(model_dir)
    _check_columns(features, scorer.model.spec.names)
    as_of = as_of or latest_as_of(features)
    total = count_rows(features, as_of)
    if total == 0:
        raise ScoringError(f"{features} has no customers as of {as_of}")
    summary = Summary(as_of, scorer.model.version, scorer.path)
    stages.lap("load model, count customers")
    log.info(
        "scoring %s customers as of %s with model %s (%s path), %s rows a chunk, %d process(es)",
        f"{total:,}", as_of, scorer.model.version, scorer.path, f"{chunk_rows:,}", workers,
    )  # fmt: skip
    columns = list(
        dict.fromkeys(
            ["customer_id", "as_of_date", *scorer.model.spec.names, *BANDED.values(),
             *SEGMENT_VALUES]
        )
    )  # fmt: skip
    snapshot = snapshot_path(scores_dir, as_of)
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    scored_at = datetime.now(UTC)
    tmp = snapshot.with_name(f".{SCORES_FILE}.{os.getpid()}.tmp")
    try:
        with (
            pq.ParquetWriter(tmp, SCHEMA) as writer,
            tqdm(total=total, unit="customer", disable=not progress, desc="scoring") as bar,
        ):
            batches = read_batches(features, as_of, columns, chunk_rows)
            for table in score_batches(scorer, batches, scored_at, workers):
                writer.write_table(table)
                summary.customers += table.num_rows
                for tier in pc.value_counts(table.column("tier")).to_pylist():
                    summary.tiers[tier["values"]] += tier["counts"]
                bar.update(table.num_rows)
        latest = scores_dir / SCORES_FILE
        latest_tmp = latest.with_name(f".{SCORES_FILE}.{os.getpid()}.tmp")
        shutil.copyfile(tmp, latest_tmp)
        os.replace(tmp, snapshot)
        os.replace(latest_tmp, latest)
    finally:
        tmp.unlink(missing_ok=True)
        (scores_dir / f".{SCORES_FILE}.{os.getpid()}.tmp").unlink(missing_ok=True)
    stages.lap("score and write")
    summary.seconds = time.perf_counter() - started
    summary.memory_gb = stages.summary()["memory_gb"]
    summary.workers_peak_rss_gb = round(children_peak_rss_bytes() / GB, 2)
    summary.latest, summary.snapshot = latest, snapshot
    return summary
