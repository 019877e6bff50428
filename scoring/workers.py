"""Chunks scored in parallel worker processes, results in input order, memory bounded.

Scoring is CPU-bound Python and numpy (the TreeSHAP tables, the reason templates) that
holds the GIL most of the time, so threads do not help; processes do. Each worker is started
fresh ("spawn": no inherited OpenMP or XGBoost thread state) and loads the model once; the
parent reads chunks, hands each to a worker as an Arrow batch and writes the results in the
order it read them. At most `workers + 1` chunks are in flight, so memory stays bounded by the
chunk size whatever the number of customers.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from modeling.fast_path import compile_or_none
from scoring.chunks import ChunkScorer, to_table
from scoring.decisions import Decider

_scorer: ChunkScorer | None = None
_scored_at: datetime | None = None


def _start(model_dir: str, decider: Decider, scored_at: datetime) -> None:
    from modeling.artifact import load_model

    global _scorer, _scored_at
    model = load_model(Path(model_dir))
    _scorer, _scored_at = ChunkScorer(model, compile_or_none(model, "scored"), decider), scored_at


def _score(batch: pa.RecordBatch) -> pa.Table:
    assert _scorer is not None and _scored_at is not None, "worker not started"
    return to_table(_scorer.score(batch.to_pandas(), _scored_at))


def score_batches(
    scorer: ChunkScorer,
    batches: Iterable[pa.RecordBatch],
    scored_at: datetime,
    workers: int = 1,
) -> Iterator[pa.Table]:
    """customer_scores tables for `batches`, in order; `workers` > 1 scores in processes
    that load the same model folder as `scorer` (its rule and scoring time are passed on)."""
    if workers <= 1:
        for batch in batches:
            yield to_table(scorer.score(batch.to_pandas(), scored_at))
        return
    context = multiprocessing.get_context("spawn")
    model_dir = str(scorer.model.directory)
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start,
        initargs=(model_dir, scorer.decider, scored_at),
    ) as pool:  # fmt: skip
        pending: deque[Future] = deque()
        for batch in batches:
            pending.append(pool.submit(_score, batch))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
