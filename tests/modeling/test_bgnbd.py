"""BG/NBD baseline: recovers known parameters, survives degenerate data, behaves sensibly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modeling.bgnbd import BGNBD, rfm, simulate

TRUE = {"r": 0.8, "alpha": 20.0, "a": 0.6, "b": 2.5}


def test_fit_recovers_known_parameters_from_simulated_customers():
    x, t_x, big_t = simulate(4000, **TRUE, horizon=300.0, seed=1)
    model = BGNBD.fit(x, t_x, big_t)
    assert model.converged
    for name, value in TRUE.items():
        assert getattr(model, name) == pytest.approx(value, rel=0.25), name


@pytest.mark.parametrize(
    "x, t_x, big_t",
    [
        (np.zeros(200), np.zeros(200), np.full(200, 60.0)),  # nobody ever came back
        (np.full(200, 3.0), np.full(200, 60.0), np.full(200, 60.0)),  # all identical, alive
        (np.zeros(5), np.zeros(5), np.zeros(5)),  # first purchase on the as-of date
    ],
)
def test_degenerate_data_stops_at_a_bound_instead_of_crashing(x, t_x, big_t):
    model = BGNBD.fit(x, t_x, big_t)
    p = model.p_purchase(x, t_x, big_t, 30.0)
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))
    assert np.isfinite(model.log_likelihood)
    assert set(model.as_dict()["at_bound"]) <= {"r", "alpha", "a", "b"}


def test_probability_rises_with_a_more_recent_last_purchase_and_with_frequency():
    model = BGNBD(**TRUE, log_likelihood=0.0, converged=True, at_bound=(), rows=0)
    big_t = np.full(3, 200.0)
    p = model.p_purchase(np.full(3, 4.0), np.array([50.0, 120.0, 190.0]), big_t, 30.0)
    assert p[0] < p[1] < p[2]
    p = model.p_purchase(np.array([1.0, 4.0, 10.0]), np.full(3, 190.0), big_t, 30.0)
    assert p[0] < p[1] < p[2]


def test_rfm_reads_the_feature_rows():
    frame = pd.DataFrame(
        {"purchase_days": [1, 4, None], "tenure_days": [10, 100, 5], "recency_days": [10, 20, 5]}
    )
    x, t_x, big_t = rfm(frame)
    assert x.tolist() == [0, 3, 0]
    assert t_x.tolist() == [0, 80, 0]
    assert big_t.tolist() == [10, 100, 5]
