"""`python -m modeling.rollback`: put back the model the current one replaced.

The history (models/promotions.jsonl, modeling.promotions) says which version the latest
promotion of models/current replaced; that version is checked (it must still load: files
are data, hashes checked), models/current is switched to it atomically, and a "rollback"
entry is appended. Rolling back again goes one promotion further back, not back and forth.

The API keeps serving the model it loaded until POST /admin/reload (every worker switches
together): the command prints that call, or makes it with --api-url, sending the admin token
from API_ADMIN_TOKEN (an environment variable, so it stays out of shell history and `ps`).

Exit status: 0 rolled back (and reloaded, with --api-url); 2 refused, nothing changed (no
history, nothing earlier, the earlier model gone or damaged); 1 rolled back but the API
reload failed (models/current is switched; the API still serves the old model).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from ingest.paths import pipeline_paths
from modeling import promotions

REFUSED = 2
RELOAD_FAILED = 1
TOKEN_VARIABLE = "API_ADMIN_TOKEN"


class RollbackRefused(RuntimeError):
    """Nothing to roll back to; the message says why and nothing was changed."""


def _fingerprint(directory: Path) -> str | None:
    from feature_repo.fingerprint import METADATA_KEY  # Feast: imported only when needed

    try:
        return json.loads((directory / "metadata.json").read_text()).get(METADATA_KEY)
    except (OSError, ValueError, AttributeError):
        return None


def rollback(models_dir: Path, note: str | None = None) -> dict:
    """Switch models/current to the version its latest promotion replaced; the new entry."""
    # the model libraries load slowly: not for --help or a refusal
    from modeling.artifact import ArtifactError, load_model, promote

    current = promotions.current_version(models_dir)
    if current is None:
        raise RollbackRefused(f"no models/current in {models_dir}: nothing to roll back")
    entries = promotions.read(models_dir)
    if not entries:
        raise RollbackRefused(
            f"no promotion history ({promotions.HISTORY}) in {models_dir}: nothing to roll back to"
        )
    previous = promotions.replaced_by(entries, current)
    if previous is None:
        raise RollbackRefused(
            f"models/current is {current}, and {promotions.HISTORY} records no earlier model "
            "it replaced: nothing to roll back to"
        )
    target = Path(models_dir) / previous
    if not target.is_dir():
        raise RollbackRefused(f"{previous}, which {current} replaced, is no longer in {models_dir}")
    try:
        load_model(target)
    except ArtifactError as exc:
        raise RollbackRefused(f"{previous} cannot be restored: {exc}") from exc
    if _fingerprint(target) != _fingerprint(Path(models_dir) / current):
        print(
            f"note: {previous} was trained on other features than {current}; the API refuses "
            "it (409 on reload) unless the feature service is the one it was trained on",
            file=sys.stderr,
        )
    promote(models_dir, previous)
    reason = f"rollback from {current}" + (f": {note}" if note else "")
    return promotions.record(
        models_dir,
        action=promotions.ROLLBACK,
        version=previous,
        previous=current,
        reason=reason,
    )


def reload_api(api_url: str, token: str, timeout: float = 120) -> dict:
    """POST {api_url}/admin/reload with the admin token; the API's answer (JSON)."""
    request = urllib.request.Request(
        api_url.rstrip("/") + "/admin/reload",
        method="POST",
        headers={"X-Admin-Token": token, "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def _reload(api_url: str) -> int:
    token = os.environ.get(TOKEN_VARIABLE)
    if not token:
        print(f"not reloaded: set {TOKEN_VARIABLE} to the API's admin token", file=sys.stderr)
        return RELOAD_FAILED
    try:
        answer = reload_api(api_url, token)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:500]
        print(f"reload refused: HTTP {exc.code} {detail}", file=sys.stderr)
        return RELOAD_FAILED
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"reload failed: {exc}", file=sys.stderr)
        return RELOAD_FAILED
    print(
        f"API reloaded: serving {answer.get('model_version')} "
        f"(was {answer.get('previous_version')})"
    )
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m modeling.rollback",
        description="Point models/current back at the model its latest promotion replaced "
        f"(from models/{promotions.HISTORY}) and record the rollback there. Exit 0 done, 2 "
        "refused (nothing changed), 1 switched but the API reload failed.",
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=pipeline_paths().models_dir,
        help="the models folder (default: MODELS_DIR, now %(default)s)",
    )
    parser.add_argument("--reason", help="a note recorded with the rollback")
    parser.add_argument(
        "--api-url",
        help="also POST <url>/admin/reload so the API serves the restored model "
        f"(admin token from {TOKEN_VARIABLE})",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    models_dir = args.models_dir.resolve()
    try:
        entry = rollback(models_dir, args.reason)
    except RollbackRefused as exc:
        print(f"rollback refused: {exc}", file=sys.stderr)
        return REFUSED
    print(f"rolled back: models/current → {entry['version']} (was {entry['previous']})")
    if args.api_url:
        return _reload(args.api_url)
    print(
        "the API serves the old model until it reloads: "
        f'curl -X POST -H "X-Admin-Token: ${TOKEN_VARIABLE}" http://HOST:PORT/admin/reload '
        "(next time, --api-url http://HOST:PORT rolls back and reloads in one go)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
