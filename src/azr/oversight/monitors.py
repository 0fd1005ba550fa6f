"""Monitors over the executor's verdicts and the step's metrics.

A program the sandbox had to *block* (a denied file, a refused socket, a forbidden
system call) is different from one that merely failed: it tried something it was never
asked to do. Metrics that go non-finite or leave configured bounds mean the run itself
has gone wrong.
"""

from __future__ import annotations

import math
from dataclasses import asdict, is_dataclass
from typing import Any

from azr.oversight.config import MetricBound
from azr.oversight.decision import Finding
from azr.oversight.events import Event

_BLOCKED_ERRORS = frozenset({"PermissionError", "SandboxViolation", "SecurityError", "PolicyViolation"})
_BLOCKED_LIMITS = frozenset({"seccomp", "landlock", "syscall", "sigsys", "policy"})
_BLOCKED_WORDS = ("operation not permitted", "permission denied", "bad system call", "not allowed in the sandbox")


def result_dict(result: Any) -> dict[str, Any]:
    """An :class:`ExecResult` (or its ledger form) as a plain dict."""
    if is_dataclass(result) and not isinstance(result, type):
        return asdict(result)
    return dict(result)


def blocked_by_sandbox(result: Any) -> str | None:
    """Why the sandbox stopped this run, or None when it was not a sandbox block."""
    data = result_dict(result)
    error_type = data.get("error_type") or ""
    limit = (data.get("killed_by_limit") or "").lower()
    message = (data.get("error_message") or "").lower()
    if error_type in _BLOCKED_ERRORS:
        return f"{error_type}: {data.get('error_message') or ''}".strip(": ")
    if limit in _BLOCKED_LIMITS:
        return f"killed by the {limit} limit"
    if any(word in message for word in _BLOCKED_WORDS):
        return f"{error_type or 'error'}: {data.get('error_message')}"
    return None


class SandboxMonitor:
    """Flags validation runs and solver answers that the sandbox had to block."""

    name = "sandbox_monitor"
    watches = frozenset({"validation", "attempt"})

    def review(self, event: Event) -> list[Finding]:
        findings = []
        for result in event.data.get("results", ()):
            why = blocked_by_sandbox(result)
            if why is not None:
                findings.append(
                    Finding(
                        monitor=self.name,
                        kind="sandbox_blocked",
                        severity="medium",
                        reason=f"the sandbox blocked the {event.role or event.kind}'s program ({why})",
                    )
                )
        return findings


class MetricsMonitor:
    """Flags non-finite step metrics and metrics outside configured bounds."""

    name = "metrics_monitor"
    watches = frozenset({"step_metrics"})

    def __init__(self, bounds: dict[str, MetricBound]) -> None:
        self.bounds = bounds

    def review(self, event: Event) -> list[Finding]:
        findings = []
        for metric, value in event.data.get("metrics", {}).items():
            if not isinstance(value, (int, float)):
                continue
            if not math.isfinite(value):
                findings.append(Finding(monitor=self.name, kind="metric_non_finite", severity="high",
                                        reason=f"metric {metric} is {value}"))
                continue
            bound = self.bounds.get(metric)
            if bound is None:
                continue
            if (bound.min is not None and value < bound.min) or (bound.max is not None and value > bound.max):
                findings.append(Finding(monitor=self.name, kind="metric_out_of_bounds", severity=bound.severity,
                                        reason=f"metric {metric}={value:g} is outside [{bound.min}, {bound.max}]"))
        return findings
