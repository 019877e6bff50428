"""`python -m bench --only S --update` reruns some sections and keeps the rest, dated."""

from __future__ import annotations

import copy
import json

import pytest

from bench.__main__ import SECTIONS, merge_results
from bench.report import render_markdown
from tests.conftest import REPO_ROOT

COMMITTED = REPO_ROOT / "bench" / "results.json"


def test_the_committed_results_render_every_section():
    results = json.loads(COMMITTED.read_text())
    markdown = render_markdown(results)
    assert markdown.startswith(f"# Benchmark results — tier {results['tier']}")
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert len(headings) == len([s for s in SECTIONS if s in results])


def test_update_replaces_the_rerun_section_and_dates_the_kept_ones(tmp_path):
    # the committed figures as a first, whole-tier run wrote them: one date, no `ran` map
    previous = json.loads(COMMITTED.read_text())
    previous.pop("ran", None)
    previous["date"] = "2029-01-01T00:00:00+00:00"
    path = tmp_path / "results.json"
    path.write_text(json.dumps(previous))
    fresh = {
        "tier": previous["tier"],
        "date": "2030-01-01T00:00:00+00:00",
        "machine": previous["machine"],
        "serving": copy.deepcopy(previous["serving"]),
    }
    fresh["serving"]["default"]["marker"] = "fresh"
    merged = merge_results(path, fresh)
    assert merged["serving"]["default"]["marker"] == "fresh"
    assert merged["dbt"] == previous["dbt"]  # kept as it was
    assert merged["ran"]["serving"] == fresh["date"]
    assert merged["ran"]["dbt"] == previous["date"]
    markdown = render_markdown(merged)
    dbt = markdown[markdown.index("## dbt") :]
    assert dbt.splitlines()[2] == f"*(this section ran {previous['date']}; `--update` kept it)*"
    serving = markdown[markdown.index("## Serving") :]
    assert "--update` kept it" not in serving.splitlines()[2]

    # a second update keeps the first one's dates
    again = merge_results(path.with_name("again.json"), fresh)  # no previous file: all fresh
    assert set(again["ran"]) == {"serving"}
    path.write_text(json.dumps(merged))
    later = merge_results(path, fresh | {"date": "2031-01-01T00:00:00+00:00"})
    assert later["ran"]["dbt"] == previous["date"]
    assert later["ran"]["serving"] == "2031-01-01T00:00:00+00:00"


def test_update_refuses_to_mix_tiers(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"tier": "m", "date": "x", "machine": {}}))
    with pytest.raises(SystemExit, match="tier m"):
        merge_results(path, {"tier": "s", "date": "y", "machine": {}})
