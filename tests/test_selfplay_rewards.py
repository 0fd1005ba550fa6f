"""Proposer and solver reward maths (paper eq. 4-6)."""

import pytest

from azr.selfplay.rewards import learnability, solve_rate


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_learnability_is_zero_for_tasks_always_or_never_solved(rate):
    assert learnability(rate) == 0.0


@pytest.mark.parametrize("rate, expected", [(0.25, 0.75), (0.5, 0.5), (0.875, 0.125)])
def test_learnability_pays_harder_tasks_more(rate, expected):
    assert learnability(rate) == pytest.approx(expected)


def test_learnability_rejects_rates_outside_unit_interval():
    with pytest.raises(ValueError, match="solve rate"):
        learnability(1.5)


def test_solve_rate_is_mean_success():
    assert solve_rate([True, False, False, True]) == 0.5
    with pytest.raises(ValueError):
        solve_rate([])
