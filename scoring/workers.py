"""Chunks scored in parallel worker processes, results in input order, memory bounded.

Scoring is CPU-bound Python and numpy (the TreeSHAP tables, the reason templates) that
holds the GIL most of the time, so threads do not help; processes do. Each helper is started
fresh ("spawn": no inherited OpenMP or XGBoost thread state) and loads the model once; the
parent reads chunks, hands some to a helper as an Arrow batch, scores the others itself and
writes the results in the order it read them. At most `2 × workers` chunks are held, so memory
stays bounded by the chunk size whatever the number of customers.
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
    """customer_scores tables for `batches`, in order. `workers` processes score: this one
    (with `scorer`) and `workers - 1` started ones that load the same model folder (its rule
    and scoring time are passed on). A started process costs ~13 CPU seconds of imports and
    a model load before its first chunk, so this process scores too instead of idling: it
    keeps each helper one chunk ahead and scores the next chunk itself."""
    if workers <= 1:
        for batch in batches:
            yield to_table(scorer.score(batch.to_pandas(), scored_at))
        return
    helpers = workers - 1
    context = multiprocessing.get_context("spawn")
    model_dir = str(scorer.model.directory)
    with ProcessPoolExecutor(
        helpers, mp_context=context, initializer=_start,
        initargs=(model_dir, scorer.decider, scored_at),
    ) as pool:  # fmt: skip
        pending: deque[Future | pa.Table] = deque()
        for batch in batches:
            busy = sum(isinstance(p, Future) and not p.done() for p in pending)
            if busy < 2 * helpers:  # each helper: one chunk scoring, one waiting
                pending.append(pool.submit(_score, batch))
            else:
                pending.append(to_table(scorer.score(batch.to_pandas(), scored_at)))
            # in input order; at most 2 × workers chunks held, whatever the number of rows
            while pending and (len(pending) > 2 * workers or _ready(pending[0])):
                yield _table(pending.popleft())
        while pending:
            yield _table(pending.popleft())


def _ready(item: Future | pa.Table) -> bool:
    return not isinstance(item, Future) or item.done()


def _table(item: Future | pa.Table) -> pa.Table:
    return item.result() if isinstance(item, Future) else item
