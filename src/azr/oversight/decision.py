"""What a monitor says about an event, and what the throttle tells the loop to do.

A monitor reports :class:`Finding` objects; the hub folds the findings on one event into a
single :class:`Decision`, so the loop reads one verdict while the ledger keeps every
finding with its span.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, ClassVar, Literal

Verdict = Literal["allow", "flag", "veto"]
Severity = Literal["low", "medium", "high", "critical"]

SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
_VERDICT_RANK = {"allow": 0, "flag": 1, "veto": 2}


def severity_rank(severity: str) -> int:
    """Order severities so ``max`` and thresholds can compare them."""
    return SEVERITIES.index(severity)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Span:
    """Where in which text a finding matched; ``text`` is the matched slice, verbatim."""

    field: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Finding:
    """One reason to worry about one event, found by one monitor."""

    monitor: str
    kind: str
    severity: Severity
    reason: str
    verdict: Verdict = "flag"
    span: Span | None = None
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    """The hub's verdict on one event: the worst finding decides, all findings are kept.

    ``reward_penalty`` is what the loop subtracts from the completion's reward; it is 0
    unless the reasoning auditor flagged the completion and a penalty weight is configured.
    """

    verdict: Verdict = "allow"
    findings: tuple[Finding, ...] = ()
    reward_penalty: float = 0.0

    @classmethod
    def from_findings(cls, findings: list[Finding], reward_penalty: float = 0.0) -> Decision:
        ordered = sorted(findings, key=lambda f: (_VERDICT_RANK[f.verdict], severity_rank(f.severity)), reverse=True)
        verdict: Verdict = ordered[0].verdict if ordered else "allow"
        return cls(verdict=verdict, findings=tuple(ordered), reward_penalty=reward_penalty if ordered else 0.0)

    @property
    def allowed(self) -> bool:
        return self.verdict != "veto"

    @property
    def _top(self) -> Finding | None:
        return self.findings[0] if self.findings else None

    @property
    def kind(self) -> str:
        return self._top.kind if self._top else ""

    @property
    def severity(self) -> Severity | None:
        return self._top.severity if self._top else None

    @property
    def reason(self) -> str:
        return self._top.reason if self._top else ""

    @property
    def span(self) -> Span | None:
        return self._top.span if self._top else None

    @property
    def monitor(self) -> str:
        return self._top.monitor if self._top else ""


class ActionKind(str, Enum):
    """What the loop must do after a step, from mildest to hardest."""

    CONTINUE = "continue"
    SLOW = "slow"
    PAUSE = "pause"
    STOP = "stop"


_ACTION_RANK = {ActionKind.CONTINUE: 0, ActionKind.SLOW: 1, ActionKind.PAUSE: 2, ActionKind.STOP: 3}


@dataclass(frozen=True)
class Action:
    """The throttle's instruction to the loop.

    ``Action.CONTINUE``, ``Action.PAUSE`` and ``Action.STOP`` compare equal to any action of
    that kind whatever its reason; ``Action.SLOW(seconds)`` asks the loop to sleep that long
    before the next step. On PAUSE the loop checkpoints and exits with
    :data:`PAUSE_EXIT_CODE`; on STOP it exits with :data:`STOP_EXIT_CODE`.
    """

    kind: ActionKind
    seconds: float = 0.0
    reason: str = field(default="", compare=False)

    CONTINUE: ClassVar[Action]
    PAUSE: ClassVar[Action]
    STOP: ClassVar[Action]

    @classmethod
    def SLOW(cls, seconds: float, reason: str = "") -> Action:  # noqa: N802 - reads like the other constants
        return cls(ActionKind.SLOW, seconds, reason)

    @property
    def rank(self) -> int:
        return _ACTION_RANK[self.kind]


Action.CONTINUE = Action(ActionKind.CONTINUE)
Action.PAUSE = Action(ActionKind.PAUSE)
Action.STOP = Action(ActionKind.STOP)

PAUSE_EXIT_CODE = 3
STOP_EXIT_CODE = 4
