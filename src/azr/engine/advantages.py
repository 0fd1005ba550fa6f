"""Task-Relative REINFORCE++ advantages (Absolute Zero, section 3.3.5).

Each (task type, role) pair is its own baseline: within a group, the advantage of a
sequence is its reward standardised by that group's mean and standard deviation,

    A_i = (r_i - mean_g(r)) / (std_g(r) + eps)

with the population standard deviation, so a standardised group has exactly zero mean
and unit spread. A group of one, or a group whose rewards are all equal, has nothing to
compare against: its numerators are zero and so are its advantages.
"""

from __future__ import annotations

from collections import defaultdict
import math
from typing import Sequence

from azr.engine.errors import SampleError


def task_relative_advantages(rewards: Sequence[float], groups: Sequence[str], eps: float = 1e-6) -> list[float]:
    if len(rewards) != len(groups):
        raise SampleError(f"{len(rewards)} rewards but {len(groups)} group labels")
    members: dict[str, list[int]] = defaultdict(list)
    for index, group in enumerate(groups):
        members[group].append(index)
    advantages = [0.0] * len(rewards)
    for indices in members.values():
        values = [float(rewards[i]) for i in indices]
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        for i, value in zip(indices, values):
            advantages[i] = (value - mean) / (std + eps)
    return advantages
