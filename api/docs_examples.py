"""Refresh the examples /docs shows for GET /audiences, /audiences.csv and /insights.

`python -m api.docs_examples` (after `make pipeline`) asks the real app, in process, the
questions the examples illustrate and writes its answers next to the routes that show them,
so the examples are what the product answers on the sample, not prose that can drift from it.
The tests of each route check that its example is still a valid answer of the route's schema.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings

ROUTES = Path(__file__).resolve().parent / "routes"
# who to contact: the high tier, most likely first, the first two rows of the page
AUDIENCE_QUESTION = {"tier": "high", "sort": "probability", "order": "desc", "limit": 2}
CSV_ROWS = 2


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def refresh(settings: Settings, routes: Path = ROUTES) -> list[Path]:
    """Ask the app and write the three example files; raise if any answer is not a 200."""
    with TestClient(create_app(settings)) as client:
        audience = client.get("/audiences", params=AUDIENCE_QUESTION)
        csv = client.get("/audiences.csv", params=AUDIENCE_QUESTION | {"limit": None})
        insights = client.get("/insights")
    answers = {"/audiences": audience, "/audiences.csv": csv, "/insights": insights}
    for name, answer in answers.items():
        if answer.status_code != 200:
            raise SystemExit(f"error: {name} answered {answer.status_code}: {answer.text[:300]}")
    written = [routes / "audiences_example.json", routes / "audiences_example.csv"]
    written.append(routes / "insights_example.json")
    _write_json(written[0], audience.json())
    lines = csv.text.splitlines(keepends=True)
    written[1].write_text("".join(lines[: 1 + CSV_ROWS]), encoding="utf-8")
    _write_json(written[2], insights.json())
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m api.docs_examples",
        description="Rewrite the /docs examples of GET /audiences, /audiences.csv and /insights "
        "from the app's own answers over the current score file and segment mart (the API_* "
        "settings say where they are; run `make pipeline` first).",
    )
    parser.parse_args(argv)
    for path in refresh(Settings()):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
