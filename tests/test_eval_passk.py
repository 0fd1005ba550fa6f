"""pass@k: the unbiased estimator against brute-force enumeration of k-subsets."""

from __future__ import annotations

from itertools import combinations

import pytest

from azr.eval.passk import mean_pass_at_k, pass_at_k, report_ks


def _brute_force(n: int, c: int, k: int) -> float:
    samples = [True] * c + [False] * (n - c)
    subsets = list(combinations(range(n), k))
    return sum(any(samples[i] for i in subset) for subset in subsets) / len(subsets)


@pytest.mark.parametrize("n,c,k", [(5, 1, 1), (10, 3, 5), (8, 0, 3), (6, 6, 2), (7, 2, 4), (4, 1, 4)])
def test_pass_at_k_equals_the_fraction_of_k_subsets_with_a_correct_sample(n: int, c: int, k: int) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(_brute_force(n, c, k))


def test_pass_at_1_is_the_fraction_correct_and_the_mean_averages_problems() -> None:
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert mean_pass_at_k([(4, 4), (4, 0)], 1) == pytest.approx(0.5)
    assert mean_pass_at_k([], 1) == 0.0


def test_impossible_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


def test_reported_ks_include_one_and_the_sample_count() -> None:
    assert report_ks(1) == [1]
    assert report_ks(8) == [1, 5, 8]
    assert report_ks(16) == [1, 5, 10, 16]
