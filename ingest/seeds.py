"""The dbt seeds (`dbt_project/seeds/*.csv`), read from Python.

`dbt seed` loads these files into DuckDB; the generator and the Spark backfill read the same
files through here, so there is one copy of each table and one reader of it.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ingest.paths import REPO_ROOT

SEEDS_DIR = REPO_ROOT / "dbt_project" / "seeds"


def seed_path(name: str, seeds_dir: Path = SEEDS_DIR) -> Path:
    return seeds_dir / f"{name}.csv"


def read_seed(name: str, seeds_dir: Path = SEEDS_DIR) -> list[dict[str, str]]:
    """The rows of seed ``name`` as text, in file order (empty cells are "")."""
    with seed_path(name, seeds_dir).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_seed(
    name: str, header: list[str], rows: list[list[object]], seeds_dir: Path = SEEDS_DIR
) -> Path:
    """Write seed ``name`` (``None`` → an empty cell, which dbt loads as NULL)."""
    path = seed_path(name, seeds_dir)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    return path


def known_categories(seeds_dir: Path = SEEDS_DIR) -> tuple[str, ...]:
    """The product categories staging keeps (others become 'other'): `category_groups`."""
    return tuple(r["category"] for r in read_seed("category_groups", seeds_dir))
