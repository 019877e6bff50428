"""The batch scorer's whole-column shortcuts give the API's one-row answers exactly: the
rounding of probabilities, the choice of the top reasons (ties in feature order) and their
words (each distinct value said once)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from modeling.reasons import reason_text, same_for_everyone
from scoring.chunks import round6
from scoring.decisions import Decider

NAMES = (
    "recency_days",
    "mean_gap_days",
    "recency_gap_ratio",
    "favourite_category",
    "favourite_category_share",
    "avg_order_value",
    "as_of_month",  # the same for everyone on a date: never a reason
)


def test_round6_is_pythons_round_even_next_to_a_half():
    rng = np.random.default_rng(0)
    halves = (np.arange(20_000) + 0.5) / 1e6  # where np.round and round disagree
    p = np.concatenate(
        [rng.random(50_000), halves, np.nextafter(halves, 0), np.nextafter(halves, 1), [0, 1]]
    )
    expected = np.array([round(x, 6) for x in p.tolist()])
    np.testing.assert_array_equal(round6(p), expected)


def _frame(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    spend = rng.choice([31250.4, 10.0, -0.0, 0.0, np.nan, 99.5], rows)
    return pd.DataFrame(
        {
            "recency_days": pd.array(rng.choice([83, 5, 12, None], rows), dtype="Int64"),
            "mean_gap_days": rng.choice([47.0, np.nan, 10.0, 3.0], rows),
            "recency_gap_ratio": rng.choice([1.766, np.nan, 1.2], rows),
            # mixed objects: 1 and 1.0 are equal values with different words
            "favourite_category": pd.Series(rng.choice(4, rows)).map(
                {0: "books", 1: None, 2: 1, 3: 1.0}
            ),
            "favourite_category_share": rng.choice([0.5, 0.2, np.nan, 0.75], rows),
            "avg_order_value": spend,
            "as_of_month": np.full(rows, 11),
        }
    )


def _one_at_a_time(frame: pd.DataFrame, pushes: np.ndarray, top: int) -> list[list]:
    """The API's way, row by row: stable sort by strength, calendar features left out."""
    hidden = same_for_everyone()
    strength = np.abs(pushes)
    strength[:, [i for i, n in enumerate(NAMES) if n in hidden]] = 0
    order = np.argsort(-strength, axis=1, kind="stable")[:, :top]
    records = frame.to_dict("records")
    columns = [[None] * len(frame) for _ in range(top)]
    for row, features in enumerate(order.tolist()):
        for k, i in enumerate(features):
            if strength[row, i] > 0:
                name = NAMES[i]
                columns[k][row] = reason_text(name, records[row][name], records[row])
    return columns


def test_top_reasons_and_their_words_equal_the_row_by_row_answer():
    rng = np.random.default_rng(16)
    frame = _frame(400, rng)
    # few distinct pushes: many ties, some zero, some NaN, the calendar feature strongest
    pushes = rng.choice([0.0, 0.1, -0.1, 0.25, -0.5, np.nan], size=(400, len(NAMES)))
    pushes[:, NAMES.index("as_of_month")] = 9.0
    pushes[:5] = 0.0  # no reason at all
    got = Decider.reasons(NAMES, pushes.copy(), frame, 3)
    assert [list(c) for c in got] == _one_at_a_time(frame, pushes, 3)
    assert any(t == "Average order ₹-0" for t in got[0]) and any(
        t == "Buys mostly 1.0" for c in got for t in c
    )
