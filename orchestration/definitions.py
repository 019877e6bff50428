"""The Dagster code location: `dagster dev -m orchestration.definitions` (what
`python -m orchestration` starts).

Assets: every dbt model, seed and source of the manifest (orchestration/dbt.py), then the
stages after it (orchestration/stages.py): feast_online_store ← customer_features;
model ← feast_online_store, customer_labels; customer_scores ← model, customer_features;
monitoring_report ← customer_scores, model, customer_features, customer_labels.
One job runs them all, daily at 03:00 UTC and whenever the raw log changes.
"""

from __future__ import annotations

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    ScheduleDefinition,
    define_asset_job,
)

from orchestration.dbt import dbt_models, dbt_resource
from orchestration.raw_sensor import raw_files_sensor
from orchestration.stages import ASSETS as STAGES

ASSETS = [dbt_models, *STAGES]
RESOURCES = {"dbt": dbt_resource()}

pipeline_job = define_asset_job(
    "pipeline",
    selection=AssetSelection.all(),
    description="The whole pipeline: dbt build, Feast, training, scoring, monitoring.",
)

daily = ScheduleDefinition(
    name="daily_pipeline",
    job=pipeline_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="The whole pipeline every day at 03:00 UTC.",
)

defs = Definitions(
    assets=ASSETS,
    jobs=[pipeline_job],
    schedules=[daily],
    sensors=[raw_files_sensor(pipeline_job)],
    resources=RESOURCES,
)
