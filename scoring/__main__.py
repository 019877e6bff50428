"""`python -m scoring`: score every customer of the latest features with the current model."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date
from pathlib import Path

from ingest.paths import pipeline_paths
from scoring.score_all import CHUNK_ROWS, FEATURES_FILE, ScoringError, score_all


def parser() -> argparse.ArgumentParser:
    paths = pipeline_paths()
    p = argparse.ArgumentParser(
        prog="python -m scoring",
        description="Score every customer of the latest as-of date of the customer_features "
        "mart with the promoted model (probability, tier, verdict, action, top 3 reasons, "
        "segment bands) and write <scores>/customer_scores.parquet plus the date's snapshot "
        "<scores>/snapshots/as_of_date=YYYY-MM-DD/customer_scores.parquet (earlier dates are "
        "kept). Exit code 2 with a message when there is no model or no features.",
    )
    p.add_argument(
        "--features",
        type=Path,
        default=paths.features_dir / FEATURES_FILE,
        help="the customer_features mart (default: FEATURES_DIR's, %(default)s)",
    )
    p.add_argument(
        "--model",
        type=Path,
        default=paths.models_dir / "current",
        help="the model folder (default: MODELS_DIR/current)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=paths.scores_dir,
        help="where the scores go (default: SCORES_DIR, %(default)s)",
    )
    p.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        help="score this as-of date (YYYY-MM-DD) instead of the latest",
    )
    p.add_argument(
        "--chunk-rows",
        type=int,
        default=CHUNK_ROWS,
        help="customers scored at once; bounds memory (default: %(default)s)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=min(os.cpu_count() or 1, 2),
        help="processes scoring chunks in parallel, this one and N-1 started ones, each with "
        "its own copy of the model (default: %(default)s; 1 scores in this process only)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.chunk_rows < 1 or args.workers < 1:
        print("error: --chunk-rows and --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        summary = score_all(
            args.features,
            args.model,
            args.out,
            as_of=args.as_of,
            chunk_rows=args.chunk_rows,
            workers=args.workers,
            progress=not args.no_progress,
        )
    except ScoringError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(summary.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
