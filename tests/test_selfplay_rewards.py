"""Proposer and solver reward maths (paper eq. 4-6)."""

import pytest

from azr.selfplay.rewards import learnability, proposer_reward, solve_rate


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


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_reference_scheme_punishes_a_valid_task_that_teaches_nothing(rate):
    assert proposer_reward("reference", True, 0.0, rate) == -0.5
    assert proposer_reward("equations", True, 0.0, rate) == 0.0


@pytest.mark.parametrize("scheme", ["reference", "equations"])
def test_both_schemes_pay_learnable_tasks_one_minus_the_solve_rate(scheme):
    assert proposer_reward(scheme, True, 0.0, 0.25) == pytest.approx(0.75)


def test_invalid_proposals_get_minus_one_in_the_reference_and_the_task_verdict_in_the_equations():
    assert proposer_reward("reference", False, -0.5, None) == -1.0
    assert proposer_reward("reference", False, -1.0, None) == -1.0
    assert proposer_reward("equations", False, -0.5, None) == -0.5
    assert proposer_reward("equations", False, -1.0, None) == -1.0


def test_a_valid_proposal_needs_its_solve_rate():
    with pytest.raises(ValueError, match="learnability rollouts"):
        proposer_reward("reference", True, 0.0, None)
