"""dbt's lineage reaches past the marts: the exposures (dbt_project/models/exposures.yml) for the
Feast feature service, the model, the API and the web app, read from the manifest the session
warehouse's `dbt build` wrote (tests/conftest.py), so what `dbt docs` draws is what is checked.
"""

from __future__ import annotations

import json

import pytest

PROJECT = "repeat_purchase"
FEATURES = f"model.{PROJECT}.customer_features"
LABELS = f"model.{PROJECT}.customer_labels"
SEGMENTS = f"model.{PROJECT}.segment_repeat_rates"
EXPOSURES = {
    "feast_feature_service": {FEATURES},
    "repeat_purchase_model": {FEATURES, LABELS},
    "prediction_api": {FEATURES, SEGMENTS},
    "marketer_web_app": {FEATURES, LABELS, SEGMENTS},
}


@pytest.fixture(scope="module")
def manifest(warehouse) -> dict:
    return json.loads((warehouse.target_dir / "manifest.json").read_text())


def test_four_exposures_on_the_marts_they_read(manifest):
    found = {e["name"]: set(e["depends_on"]["nodes"]) for e in manifest["exposures"].values()}
    assert found == EXPOSURES


def test_exposures_say_who_where_and_what(manifest):
    for exposure in manifest["exposures"].values():
        assert exposure["owner"]["email"], exposure["name"]
        assert exposure["url"].startswith("http://127.0.0.1:"), exposure["name"]
        assert len(exposure["description"]) > 80, exposure["name"]
    types = {e["name"]: e["type"] for e in manifest["exposures"].values()}
    assert types["repeat_purchase_model"] == "ml"


def test_lineage_runs_from_the_raw_log_to_every_exposure(manifest):
    """Walking up from each exposure reaches marts, intermediate and staging models and the raw
    sources: one graph from raw to the API in `dbt docs`."""
    parents = manifest["parent_map"]
    for unique_id in manifest["exposures"]:
        seen, todo = set(), [unique_id]
        while todo:
            for parent in parents.get(todo.pop(), []):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        layers = {manifest["nodes"][n]["fqn"][1] for n in seen if n.startswith("model.")}
        assert {"staging", "intermediate", "marts"} <= layers, (unique_id, layers)
        assert any(n.startswith(f"source.{PROJECT}.") for n in seen), unique_id


def test_docs_load_nothing_from_the_internet(manifest):
    """dbt docs' index.html is self-contained (its JS and CSS inline; it reads manifest.json
    and catalog.json from its own server), except that a manifest saying
    send_anonymous_usage_stats makes the page load Snowplow's sp.js from cloudfront.net and
    report page views to dbt Labs: offline that is a failed request, online a tracker."""
    assert manifest["metadata"]["send_anonymous_usage_stats"] is False
