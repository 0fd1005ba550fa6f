"""The throttle: turns counts and rates of the monitors' signals into what the loop does next.

Each reviewed event adds its signals to the open tally; the end of a step files that
tally under the step's number, and every rule then looks at its window: the hardest action
any rule asks for wins.
"""

from __future__ import annotations

from collections import Counter

from azr.oversight.config import ThrottleConfig, ThrottleRule
from azr.oversight.decision import Action, ActionKind, Decision

_RULE_ACTION = {"slow": ActionKind.SLOW, "pause": ActionKind.PAUSE, "stop": ActionKind.STOP}


def signals(decision: Decision) -> set[str]:
    """The signal names one decision contributes (each counted once per event)."""
    if decision.verdict == "allow":
        return set()
    names = {decision.verdict}
    for finding in decision.findings:
        names.add(f"severity:{finding.severity}")
        names.add(f"kind:{finding.kind}")
    return names


class ThrottlePolicy:
    """Windowed tallies of signals per step, judged by the configured rules."""

    def __init__(self, config: ThrottleConfig) -> None:
        self.config = config
        self._counts: dict[int, Counter[str]] = {}
        self._events: Counter[int] = Counter()
        self._open: Counter[str] = Counter()
        self._open_events = 0

    def observe(self, decision: Decision) -> None:
        self._open_events += 1
        self._open.update(signals(decision))

    def commit(self, step: int) -> None:
        """File the open tally under ``step`` (adding to it if the step was committed before)."""
        self._counts.setdefault(step, Counter()).update(self._open)
        self._events[step] += self._open_events
        self._open, self._open_events = Counter(), 0

    def decide(self, step: int) -> Action:
        if not self.config.enabled:
            return Action.CONTINUE
        chosen = Action.CONTINUE
        for rule in self.config.rules:
            action = self._apply(rule, step)
            if action.rank > chosen.rank or (action.kind == chosen.kind == ActionKind.SLOW and action.seconds > chosen.seconds):
                chosen = action
        return chosen

    def _apply(self, rule: ThrottleRule, step: int) -> Action:
        first = step - rule.window_steps + 1
        count = sum(c[rule.signal] for s, c in self._counts.items() if first <= s <= step)
        events = sum(n for s, n in self._events.items() if first <= s <= step)
        window = f"in the last {rule.window_steps} step(s)"
        if rule.min_count is not None and count >= rule.min_count:
            reason = f"{count} x {rule.signal} {window} (limit {rule.min_count})"
        elif rule.min_rate is not None and events >= rule.min_events and count / events >= rule.min_rate:
            reason = f"{rule.signal} rate {count / events:.2f} over {events} events {window} (limit {rule.min_rate})"
        else:
            return Action.CONTINUE
        return Action(_RULE_ACTION[rule.action], rule.slow_seconds if rule.action == "slow" else 0.0, reason)
