"""BehaviourParams.without_segment_effects, at process level: what makes a log in which no
segment predicts a repeat (the pipeline-level check is test_claims.py)."""

from __future__ import annotations

from datetime import date

import numpy as np

from ingest import behaviour
from ingest.behaviour import BehaviourParams, CalendarGrid
from ingest.holidays import load_calendar


def test_one_shared_rate_no_dropout_and_an_oracle_that_ignores_history():
    params = BehaviourParams().without_segment_effects()
    grid = CalendarGrid.build(load_calendar(), date(2023, 1, 1), date(2025, 12, 31), params, 31)
    rng = np.random.default_rng(5)
    people = behaviour.draw_customers(rng, 5_000, grid, params)
    orders = behaviour.simulate_orders(rng, people, grid, params)
    assert np.ptp(people.rate) / people.rate.mean() < 0.01  # the same rate for everyone
    assert not people.dropout.any() and not orders.dropout_after.any()
    # still a mix of spenders and categories: they just no longer matter
    assert people.high_spender.any() and np.unique(people.category).size == 6
    as_of_day = grid.n_days - 61
    who, p = behaviour.oracle_p_repeat(people, orders, grid, as_of_day, 30)
    assert np.ptp(p) < 0.01  # whatever each customer's history, the same chance
    in_window = (orders.time >= as_of_day + 1) & (orders.time < as_of_day + 31)
    repeated = np.isin(who, orders.customer[in_window])
    assert abs(repeated.mean() - p.mean()) < 0.03
    assert 0.3 < p.mean() < 0.45  # about the default process's 30-day repeat rate
