"""Confidence intervals for the small rates a CPU run measures (tens of probes, not thousands).

A normal-approximation interval on 3/40 reaches below zero and claims too much; the
Wilson score interval stays inside [0, 1] and keeps its coverage near 0 and 1, which is
where a small model's solve rates live. A difference of two rates gets Newcombe's hybrid
score interval, built from the two Wilson intervals. When both runs answered the same
probes, McNemar's exact test uses only the probes on which they disagree.
"""

from __future__ import annotations

import math

Z_95 = 1.959963984540054


def wilson(successes: float, trials: float, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of ``successes / trials``; (0, 1) when nothing was tried."""
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must lie in [0, trials]; got {successes} of {trials}")
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(k1: float, n1: float, k2: float, n2: float, z: float = Z_95) -> tuple[float, float, float]:
    """``p1 - p2`` with Newcombe's hybrid score interval (his method 10), as (difference, low, high)."""
    p1 = k1 / n1 if n1 else 0.0
    p2 = k2 / n2 if n2 else 0.0
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    diff = p1 - p2
    low = diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return diff, max(-1.0, low), min(1.0, high)


def mcnemar_exact(only_first: int, only_second: int) -> float:
    """Two-sided exact p-value that two paired rates are equal, from the discordant counts alone."""
    discordant = only_first + only_second
    if discordant == 0:
        return 1.0
    smaller = min(only_first, only_second)
    tail = sum(math.comb(discordant, i) for i in range(smaller + 1)) / 2**discordant
    return min(1.0, 2 * tail)
