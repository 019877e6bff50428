"""models/promotions.jsonl: every switch of models/current, why, and the figures behind it.

One JSON object per line, appended, never rewritten: `action` ("promote" by the trainer,
"rollback" by `python -m modeling.rollback`), `time` (UTC), `version` (the folder current now
points at), `previous` (the one it pointed at, or null), `reason` (a sentence), and for a
promotion `compared_on` (the as-of date the challenger and the champion were both scored on)
and `figures` (both models' PR-AUC and ROC-AUC there, the margin rule).

A separate file, not a field of the model's metadata.json, because metadata.json is sealed at
save (its sha256 list guards the model files) and a model's history goes on after it: it is
promoted, replaced, rolled back to. Rollback reads the history to find what a version
replaced; GET /model shows the latest entry of the version it serves.

The file is data: a line that is not a well-formed entry is skipped (and logged), never
trusted, so a damaged history cannot break serving.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from modeling.jsonsafe import strict_json

log = logging.getLogger(__name__)

HISTORY = "promotions.jsonl"
PROMOTE, ROLLBACK = "promote", "rollback"


def history_path(models_dir: Path) -> Path:
    return Path(models_dir) / HISTORY


def current_version(models_dir: Path) -> str | None:
    """The folder models/current points at, or None when there is no current model."""
    link = Path(models_dir) / "current"
    return link.resolve().name if link.exists() else None


def record(
    models_dir: Path,
    *,
    action: str,
    version: str,
    previous: str | None,
    reason: str,
    compared_on: str | None = None,
    figures: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one entry (one line, written and synced at once) and return it."""
    if action not in (PROMOTE, ROLLBACK):
        raise ValueError(f"unknown action {action!r}")
    entry = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "action": action,
        "version": version,
        "previous": previous,
        "reason": reason,
        "compared_on": compared_on,
        "figures": figures,
    }
    line = json.dumps(strict_json(entry), allow_nan=False, default=str) + "\n"
    with history_path(models_dir).open("a", encoding="utf-8") as history:
        history.write(line)
        history.flush()
        os.fsync(history.fileno())
    return entry


def _well_formed(entry: Any) -> bool:
    if not isinstance(entry, dict) or entry.get("action") not in (PROMOTE, ROLLBACK):
        return False
    try:
        datetime.fromisoformat(entry.get("time"))
    except (TypeError, ValueError):
        return False
    return (
        isinstance(entry.get("version"), str)
        and isinstance(entry.get("reason"), str)
        and (entry.get("previous") is None or isinstance(entry["previous"], str))
        and (entry.get("compared_on") is None or isinstance(entry["compared_on"], str))
        and (entry.get("figures") is None or isinstance(entry["figures"], dict))
    )


def read(models_dir: Path) -> list[dict[str, Any]]:
    """Every well-formed entry, oldest first; [] when there is no history."""
    try:
        lines = history_path(models_dir).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError):
        log.warning("%s cannot be read; treated as empty", HISTORY)
        return []
    entries = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if _well_formed(entry):
            entries.append(entry)
        else:
            log.warning("%s line %d is not a history entry; skipped", HISTORY, number)
    return entries


def latest_for(models_dir: Path, version: str) -> dict[str, Any] | None:
    """The newest entry that made `version` current: why it serves now."""
    return next((e for e in reversed(read(models_dir)) if e["version"] == version), None)


def replaced_by(entries: list[dict[str, Any]], version: str) -> str | None:
    """What the latest *promotion* of `version` replaced: where a rollback from it goes.

    Promotions only: after C was rolled back to B, rolling back again goes to what B had
    replaced (A), not back to C.
    """
    for entry in reversed(entries):
        if entry["action"] == PROMOTE and entry["version"] == version:
            return entry["previous"]
    return None
