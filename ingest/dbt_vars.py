"""The dbt project's ``vars:``, read once per process, for the Python side of the pipeline.

``dbt_project.yml`` is where the pipeline's knobs live (label window, as-of cadence, the
customer-id rule). dbt reads them in SQL; the generator, training, the Spark backfill and the
API read the same values through here, so changing a var changes every engine at once instead
of leaving a second, hard-coded copy behind.
"""

from __future__ import annotations

from functools import cache

import yaml

from ingest.paths import DBT_PROJECT_FILE


@cache
def dbt_vars() -> dict:
    """The ``vars:`` of dbt_project.yml (a fresh dict per process; callers must not mutate)."""
    doc = yaml.safe_load(DBT_PROJECT_FILE.read_text(encoding="utf-8"))
    return dict(doc.get("vars") or {})


def label_window_days() -> int:
    """Days after an as-of date in which an order counts as a repeat purchase (``repeat_30d``
    keeps its name whatever the window: the column names are the contract)."""
    return int(dbt_vars()["label_window_days"])


def snapshot_every_days() -> int:
    """Days between as-of dates on the grid (see :mod:`ingest.as_of_grid`)."""
    return int(dbt_vars()["snapshot_every_days"])


def snapshot_count() -> int:
    """As-of dates on the grid before the latest one."""
    return int(dbt_vars()["snapshot_count"])


def segment_bands() -> dict[str, list[dict]]:
    """Per banded column, its bands low to high: ``{"up_to"|"below": bound, "label": words}``,
    the last with no bound (every other known value). The segment_repeat_rates mart reads the
    same var, so the insights and the scored customers' bands can never disagree."""
    return {
        column: [dict(band) for band in bands]
        for column, bands in dbt_vars()["segment_bands"].items()
    }
