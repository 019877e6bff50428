"""The code location loads and its asset graph is the pipeline: every dbt model of the
manifest, then Feast, the model, the scores and the monitoring report on the right inputs,
with the daily schedule and the raw-files sensor over one job of every asset."""

from __future__ import annotations

import json

from dagster import AssetKey

from ingest.paths import REPO_ROOT


def _parents(graph, name: str) -> set[str]:
    return {key.to_user_string() for key in graph.get(AssetKey(name)).parent_keys}


def test_the_manifest_is_parsed_into_dbt_target_path(definitions, dbt_target):
    manifest = json.loads((dbt_target / "manifest.json").read_text())
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    graph = definitions.defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    on_disk = {path.stem for path in (REPO_ROOT / "dbt_project" / "models").rglob("*.sql")}
    assert models == on_disk
    assert models <= keys
    assert {"raw/transactions", "raw/customers"} <= keys  # the dbt sources


def test_the_stages_depend_on_the_right_assets(definitions):
    graph = definitions.defs.resolve_asset_graph()
    assert _parents(graph, "stg_transactions__typed") >= {"raw/transactions"}
    assert _parents(graph, "feast_online_store") == {"customer_features"}
    assert _parents(graph, "model") == {"feast_online_store", "customer_labels"}
    assert _parents(graph, "customer_scores") == {"model", "customer_features"}
    assert _parents(graph, "monitoring_report") == {
        "customer_scores", "model", "customer_features", "customer_labels",
    }  # fmt: skip


def test_one_job_of_every_asset_on_a_schedule_and_a_sensor(definitions):
    defs = definitions.defs
    job = defs.resolve_job_def("pipeline")
    graph = defs.resolve_asset_graph()
    materializable = {key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    assert set(job.asset_layer.selected_asset_keys) == materializable
    schedule = defs.resolve_schedule_def("daily_pipeline")
    assert schedule.job_name == "pipeline"
    assert schedule.cron_schedule == "0 3 * * *"
    sensor = defs.resolve_sensor_def("raw_files_changed")
    assert sensor.job_name == "pipeline"
