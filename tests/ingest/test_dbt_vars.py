"""The label window has one home, dbt's ``label_window_days`` var: every Python default follows
it, so changing the var cannot leave a hard-coded 30 behind in training, the split or the
Spark backfill (each of these asserts failed when they said 30 on their own)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from ingest.dbt_vars import dbt_vars, label_window_days
from ingest.paths import DBT_PROJECT_FILE


@pytest.fixture
def window_of_7_days(monkeypatch):
    # the reader's cached dict, changed for this test only (monkeypatch restores it)
    monkeypatch.setitem(dbt_vars(), "label_window_days", 7)
    return 7


def test_the_window_is_read_from_dbt_project_yml():
    assert "label_window_days:" in DBT_PROJECT_FILE.read_text(encoding="utf-8")
    assert label_window_days() == int(dbt_vars()["label_window_days"])


def test_training_settings_default_to_the_dbt_window(window_of_7_days):
    from modeling.settings import TrainSettings

    assert TrainSettings().label_window_days == window_of_7_days


def test_the_time_split_defaults_to_the_dbt_window(window_of_7_days):
    from modeling.dataset import split_by_as_of

    # as-of dates 10 days apart: with a 7-day window the two before the test date are fully
    # labelled by it; with 30 days neither is, and the split refuses
    dates = [date(2025, 1, 1) + timedelta(days=10 * i) for i in range(3)]
    frame = pd.DataFrame({"as_of_date": dates, "customer_id": ["a", "b", "c"]})
    train, valid, test = split_by_as_of(frame, validation_dates=1)
    assert (len(train), len(valid), len(test)) == (1, 1, 1)


def test_the_backfill_cli_defaults_to_the_dbt_window(window_of_7_days):
    from backfill.__main__ import build_parser

    args = build_parser().parse_args(["--start", "2025-01-01"])
    assert args.label_window == window_of_7_days
