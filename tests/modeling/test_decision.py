"""modeling.decision: one rule, so tier, verdict and action never contradict each other."""

from __future__ import annotations

import numpy as np
import pytest

from modeling.decision import ACTIONS, capacity_cutoff, decide, decide_many, decision_rule

PROBABILITIES = np.round(np.linspace(0, 1, 201), 6)
THRESHOLDS = [0.05, 0.2, 0.3, 0.354, 0.5, 0.6, 0.75, 0.95]
HIGH_CUTOFFS = [0.1, 0.3, 0.6, 0.9]


@pytest.mark.parametrize("threshold", THRESHOLDS)
@pytest.mark.parametrize("high", HIGH_CUTOFFS)
def test_no_combination_contradicts(threshold, high):
    rule = decision_rule(threshold, high)
    for p in PROBABILITIES:
        d = decide(float(p), rule)
        assert d.will_repeat == (p >= threshold)  # the verdict is the model's threshold
        assert d.will_repeat == (d.tier != "low")  # and the tier says the same
        assert d.action == ACTIONS[d.tier]
        assert ("Not likely" in d.action) == (not d.will_repeat)
        assert d.tier in d.explanation and str(round(p * 100, 1)) in d.explanation


def test_the_issue_cases():
    """32.1 % under a 35.4 % threshold was "medium / not likely"; 54.9 % "could go either way"."""
    rule = decision_rule(0.354, 0.6)
    low = decide(0.321, rule)
    assert (low.tier, low.will_repeat) == ("low", False)
    medium = decide(0.549, rule)
    assert (medium.tier, medium.will_repeat) == ("medium", True)
    assert "either way" not in medium.action


def test_a_high_cut_off_below_the_threshold_leaves_no_medium_tier():
    rule = decision_rule(0.5, 0.3)
    assert rule.high == 0.5
    assert {decide(float(p), rule).tier for p in PROBABILITIES} == {"high", "low"}
    assert "medium" not in rule.sentence


def test_vectorised_equals_one_at_a_time():
    rng = np.random.default_rng(0)
    p = rng.random(10_000)
    for threshold in THRESHOLDS:
        rule = decision_rule(threshold, 0.6)
        tiers, likely = decide_many(p, rule)
        one = [decide(float(x), rule) for x in p[:2000]]
        assert tiers[:2000].tolist() == [d.tier for d in one]
        assert likely[:2000].tolist() == [d.will_repeat for d in one]
        assert (likely == (tiers != "low")).all()


def test_capacity_puts_the_top_n_percent_in_the_high_tier():
    scores = np.random.default_rng(1).random(100_000)
    rule = decision_rule(0.3, 0.6, top_percent=10, scores=scores)
    tiers, _ = decide_many(scores, rule)
    assert (tiers == "high").mean() == pytest.approx(0.10, abs=0.002)
    assert rule.top_percent == 10 and "top 10 %" in rule.sentence
    # a capacity larger than the likely share cannot lift unlikely customers into "high"
    wide = decision_rule(0.3, 0.6, top_percent=90, scores=scores)
    assert wide.high == 0.3
    with pytest.raises(ValueError):
        capacity_cutoff(0, scores)


def test_the_sentence_states_every_cut_off():
    sentence = decision_rule(0.354, 0.6).sentence
    assert "35.4 %" in sentence and "60.0 %" in sentence
    assert "medium tier, likely" in sentence and "low tier, not likely" in sentence
