"""The landing zone (``data/raw``) as something an import may not overwrite by accident.

Importing file B after file A used to replace A without a word, and a header-only file replaced
everything with 0 rows. The rules here:

* an import records what it was made from — each source file's name and SHA-256 — in the
  key-value metadata of ``transactions.parquet`` itself, so the record cannot outlive or drift
  from the data it describes (``make clean`` deleting the file deletes the record);
* a landing zone holding anything else — another import, or a generated sample — is replaced
  only with ``--replace``, or added to with ``--append``; re-importing the same file (same
  content hash) is allowed, it is the same data;
* whatever an import replaces is moved to ``<out>/.previous/`` — one level of undo;
  ``--undo`` swaps it back (and a second ``--undo`` redoes);
* new files are written to ``<out>/.incoming/`` first and moved into place only when complete,
  so a refused or failed import leaves the landing zone as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingest import contract
from ingest.errors import LoadError

PREVIOUS_DIR = ".previous"
INCOMING_DIR = ".incoming"
SWAP_DIR = ".undo"
MANIFEST_KEY = b"ingest.load"
SAMPLE_MARKER = ".sample-args"  # written by `make sample` next to a generated sample
LANDING_FILES: tuple[str, ...] = (
    contract.TRANSACTIONS_FILE,
    contract.CUSTOMERS_FILE,
    contract.GROUND_TRUTH_FILE,
    f"{contract.SET_ASIDE_DIR}/{contract.SET_ASIDE_FILE}",
    SAMPLE_MARKER,
)


@dataclass(frozen=True)
class Holding:
    """What a landing folder holds: nothing, an import (with its sources), or other data."""

    kind: str  # "empty" | "import" | "other"
    rows: int = 0
    sources: tuple[dict, ...] = ()
    sample: bool = False
    profiles: int = 0

    def describe(self) -> str:
        if self.kind == "import":
            names = " + ".join(source["file"] for source in self.sources)
            return f"an import of {names} ({self.rows:,} rows)"
        if self.kind == "other":
            what = "a generated sample" if self.sample else "data not written by ingest.load"
            return f"{what} ({self.rows:,} transaction rows, {self.profiles:,} customer profiles)"
        return "nothing"


def file_digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def manifest(sources: list[dict]) -> dict[bytes, bytes]:
    """Parquet key-value metadata recording the sources of an import."""
    return {MANIFEST_KEY: json.dumps({"sources": sources}, sort_keys=True).encode()}


def _rows(path: Path) -> int:
    try:
        return pq.ParquetFile(path).metadata.num_rows
    except (OSError, pa.ArrowException):
        return 1  # unreadable: treat as holding data, never as empty


def inspect(folder: Path) -> Holding:
    transactions = folder / contract.TRANSACTIONS_FILE
    sample = (folder / SAMPLE_MARKER).exists()
    if transactions.exists():
        rows = _rows(transactions)
        try:
            metadata = pq.read_schema(transactions).metadata or {}
        except (OSError, pa.ArrowException):
            metadata = {}
        if MANIFEST_KEY in metadata:
            sources = json.loads(metadata[MANIFEST_KEY])["sources"]
            return Holding("import", rows, tuple(sources))
    else:
        rows = 0
    parquet = [name for name in LANDING_FILES if name.endswith(".parquet")]
    held = sum(_rows(folder / name) for name in parquet if (folder / name).exists())
    if not held:
        return Holding("empty")
    customers = folder / contract.CUSTOMERS_FILE
    profiles = _rows(customers) if customers.exists() else 0
    return Holding("other", rows, sample=sample, profiles=profiles)


def decide(out: Path, holding: Holding, digest: str, *, replace: bool, append: bool) -> str:
    """How this import may land: "fresh", "same" (same file again), "replace" or "append".

    Raises ``LoadError`` when it may not land without losing data the user did not give up.
    """
    if holding.kind == "empty":
        return "fresh"
    if append:
        if holding.kind != "import":
            raise LoadError(
                f"--append adds to an earlier import, but {out} holds {holding.describe()}; "
                "use --replace to replace it"
            )
        if digest in {source["sha256"] for source in holding.sources}:
            raise LoadError(
                f"{out} already holds this file (same SHA-256 {digest[:12]}…); "
                "appending it again would count every row twice"
            )
        return "append"
    if holding.kind == "import" and [s["sha256"] for s in holding.sources] == [digest]:
        return "same"
    if replace:
        return "replace"
    raise LoadError(
        f"{out} already holds {holding.describe()}; nothing was changed. Pass --replace to "
        f"replace it (it is kept in {out / PREVIOUS_DIR} for --undo) or --append to add "
        "this file to it"
    )


def incoming(out: Path) -> Path:
    """A fresh, empty staging folder inside ``out`` (same file system: moves are renames)."""
    folder = out / INCOMING_DIR
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _move(source: Path, target: Path) -> list[str]:
    moved = []
    for name in LANDING_FILES:
        if (source / name).exists():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(source / name, target / name)
            moved.append(name)
    return moved


def commit(out: Path, *, keep_previous: bool) -> list[str]:
    """Move ``<out>/.incoming`` into place; return the files moved to ``.previous`` (if kept).

    Without ``keep_previous`` (a fresh landing zone, or the same file again) the current files
    are deleted and ``.previous`` — the state before that file was first imported — stays.
    """
    moved = []
    if keep_previous:
        shutil.rmtree(out / PREVIOUS_DIR, ignore_errors=True)
        moved = _move(out, out / PREVIOUS_DIR)
    else:
        for name in LANDING_FILES:
            (out / name).unlink(missing_ok=True)
    _move(out / INCOMING_DIR, out)
    shutil.rmtree(out / INCOMING_DIR, ignore_errors=True)
    return moved


def undo(out: Path) -> tuple[Holding, Holding]:
    """Swap the landing zone with ``.previous``; return (what is now current, what was undone)."""
    previous = out / PREVIOUS_DIR
    if not any((previous / name).exists() for name in LANDING_FILES):
        raise LoadError(f"nothing to undo: {previous} holds no earlier landing zone")
    swap = out / SWAP_DIR
    shutil.rmtree(swap, ignore_errors=True)
    _move(out, swap)
    _move(previous, out)
    _move(swap, previous)
    shutil.rmtree(swap, ignore_errors=True)
    return inspect(out), inspect(previous)
