"""Task-Relative REINFORCE++ advantages against values worked out by hand."""

import math

import pytest

from azr.engine import SampleError, task_relative_advantages


def test_each_group_is_standardised_on_its_own():
    rewards = [1.0, 0.0, 0.0, 1.0, -1.0, 0.5]
    groups = ["ded/solve", "ded/solve", "ded/solve", "ded/solve", "abd/propose", "abd/propose"]
    # ded/solve: mean 0.5, population std 0.5 -> +-1. abd/propose: mean -0.25, std 0.75 -> -+1.
    expected = [1.0, -1.0, -1.0, 1.0, -1.0, 1.0]
    assert task_relative_advantages(rewards, groups) == pytest.approx(expected, abs=1e-5)


def test_uneven_group_by_hand():
    # mean 1/3, population std sqrt(2/9) = 0.4714
    out = task_relative_advantages([1.0, 0.0, 0.0], ["g"] * 3, eps=0.0)
    assert out == pytest.approx([(2 / 3) / math.sqrt(2 / 9), (-1 / 3) / math.sqrt(2 / 9), (-1 / 3) / math.sqrt(2 / 9)])
    assert sum(out) == pytest.approx(0.0, abs=1e-12)


def test_group_of_one_gets_zero_advantage():
    out = task_relative_advantages([1.0, 0.7, 0.1], ["a", "b", "b"])
    assert out[0] == 0.0
    assert out[1] > 0 > out[2]


def test_zero_variance_group_is_zero_not_nan():
    out = task_relative_advantages([-0.5, -0.5, -0.5, 1.0, 0.0], ["z", "z", "z", "y", "y"])
    assert out[:3] == [0.0, 0.0, 0.0]
    assert all(math.isfinite(a) for a in out)


def test_labels_and_rewards_must_line_up():
    with pytest.raises(SampleError):
        task_relative_advantages([1.0, 0.0], ["g"])
