"""pass@k with the unbiased estimator of Chen et al. (2021), "Evaluating Large Language Models Trained on Code".

With n samples of which c are correct, pass@k = 1 - C(n-c, k) / C(n, k): the chance that at
least one of k samples drawn without replacement from the n is correct. Averaging it over
problems is unbiased, unlike computing 1 - (1 - c/n)^k.
"""

from __future__ import annotations

from math import comb
from typing import Sequence


def pass_at_k(n: int, c: int, k: int) -> float:
    """pass@k for one problem with ``n`` samples, ``c`` of them correct."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float:
    """The mean of pass@k over problems given as (n, c) pairs; 0 for no problems."""
    if not counts:
        return 0.0
    return sum(pass_at_k(n, c, k) for n, c in counts) / len(counts)


def report_ks(n: int) -> list[int]:
    """Which k to report for n samples per problem: 1, the usual 5 and 10 when they fit, and n."""
    return sorted({k for k in (1, 5, 10) if k <= n} | {n})
