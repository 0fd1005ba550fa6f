"""Where a step's time goes: generation, execution, update, ledger, and the rest.

The rest is the framework's own overhead (prompt building, parsing, bookkeeping); the
issue asks that it stay under 3% of a step, so it is measured, not guessed.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Iterator


class PhaseTimer:
    """Accumulates wall-clock seconds per named phase across one step."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)

    def reset(self) -> None:
        self.totals.clear()

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.totals[name] += time.perf_counter() - started

    def summary(self, step_seconds: float) -> dict[str, float]:
        """``time/<phase>`` for each phase plus ``time/other`` and its share of the step."""
        metrics = {f"time/{name}": seconds for name, seconds in self.totals.items()}
        other = max(0.0, step_seconds - sum(self.totals.values()))
        metrics["time/other"] = other
        metrics["time/other_fraction"] = other / step_seconds if step_seconds > 0 else 0.0
        return metrics
