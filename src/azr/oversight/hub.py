"""The oversight hub: the one object the self-play loop talks to.

The loop calls a ``review_*`` method at each hook point and gets a :class:`Decision`; at
the end of a step it calls :meth:`OversightHub.end_step` for the throttle's
:class:`Action` and :meth:`OversightHub.drain_records` for the ``oversight`` records it
writes inside the step's ledger transaction. The hub never writes the ledger itself
during a step, so a crashed step leaves no half-written oversight trail.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

from azr.executor.types import ExecResult, SnippetRunner
from azr.oversight.auditor import ReasoningAuditor
from azr.oversight.config import OversightConfig
from azr.oversight.decision import Action, ActionKind, Decision, Finding
from azr.oversight.events import Event, Monitor
from azr.oversight.formal import FormalWatchdog
from azr.oversight.monitors import MetricsMonitor, SandboxMonitor, result_dict
from azr.oversight.pause import write_pause
from azr.oversight.scorecard import ScorecardWriter
from azr.oversight.semantic import Embedder
from azr.oversight.throttle import ThrottlePolicy
from azr.oversight.tripwire import Canary, Tripwires
from azr.oversight.watchdog import TaskClassifier, TaskWatchdog
from azr.tasks.safety import SafetyPolicy

log = logging.getLogger(__name__)

RECORD_KIND = "oversight"


class OversightHub:
    """Routes every event of the loop through the monitors and keeps the throttle's tally.

    ``embedder``, ``safety_policy`` and ``classifier`` replace the defaults (the packaged
    MiniLM model, the task layer's default AST policy, the configured classifier hook);
    pass the loop's own :class:`SafetyPolicy` so both judge programs alike.
    """

    def __init__(
        self,
        config: OversightConfig,
        run_dir: str | Path,
        *,
        embedder: Embedder | None = None,
        safety_policy: SafetyPolicy | None = None,
        classifier: TaskClassifier | None = None,
    ) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        policy = safety_policy or SafetyPolicy()
        self.watchdog = TaskWatchdog(config.watchdog, policy, classifier) if config.watchdog.enabled else None
        self.formal = FormalWatchdog(config.formal) if config.formal.enabled else None
        self.auditor = ReasoningAuditor(config.auditor, embedder) if config.auditor.enabled else None
        monitors: list[Monitor | None] = [
            self.watchdog, self.formal, self.auditor, SandboxMonitor(), MetricsMonitor(config.metric_bounds),
        ]
        self.monitors: list[Monitor] = [m for m in monitors if m is not None]
        self.tripwires = Tripwires(config.tripwires, self.run_dir, policy)
        self.throttle = ThrottlePolicy(config.throttle)
        self.scorecards = ScorecardWriter(config.scorecard, self.run_dir)
        self._records: list[tuple[str, dict[str, Any]]] = []

    def observe(self, event: Event) -> Decision:
        """Pass one event through every monitor that watches its kind; the general hook."""
        if not self.config.enabled:
            return Decision()
        findings = [f for monitor in self.monitors if event.kind in monitor.watches for f in monitor.review(event)]
        return self._decide(event, findings)

    def review_proposal(
        self, task_type: str, program: str, inputs: Sequence[str], message: str, reasoning: str
    ) -> Decision:
        """Before a task may enter a buffer. A veto means: keep it out, reward it as malformed.

        The formal watchdog's report is analysed once here and recorded with the decision."""
        data: dict[str, Any] = {"inputs": list(inputs)}
        if self.formal is not None and self.config.enabled and program.strip():
            data["formal"] = self.formal.report(program, inputs).as_dict()
        return self.observe(Event(
            kind="proposal", role="propose", task_type=task_type,
            texts={"program": program, "message": message, "reasoning": reasoning}, data=data,
        ))

    def review_validation(
        self, task_type: str, program: str, results: Sequence[ExecResult | dict[str, Any]], valid: bool, reason: str
    ) -> Decision:
        """The executor's verdict on a proposal; flags programs the sandbox had to block."""
        return self.observe(Event(
            kind="validation", role="propose", task_type=task_type, texts={"program": program},
            data={"results": [result_dict(r) for r in results], "valid": valid, "reason": reason},
        ))

    def review_completion(self, role: str, task_type: str, text: str) -> Decision:
        """Audit the reasoning of one completion, proposer or solver."""
        return self.review_completions([(role, task_type, text)])[0]

    def review_completions(self, items: Sequence[tuple[str, str, str]]) -> list[Decision]:
        """Audit many completions with one batched embedding call: ``(role, task_type, text)`` each."""
        events = [Event(kind="completion", role=role, task_type=task_type, texts={"completion": text})
                  for role, task_type, text in items]
        if not self.config.enabled:
            return [Decision() for _ in events]
        audited = self.auditor.review_texts([("completion", e.texts["completion"]) for e in events]) if self.auditor else [[] for _ in events]
        decisions = []
        for event, found in zip(events, audited):
            others = [f for m in self.monitors if m is not self.auditor and event.kind in m.watches for f in m.review(event)]
            decisions.append(self._decide(event, found + others))
        return decisions

    def review_attempt(
        self, task_type: str, answer: str, results: Sequence[ExecResult | dict[str, Any]], correct: bool, reward: float
    ) -> Decision:
        """A solver's verified answer; flags answers the sandbox had to block."""
        return self.observe(Event(
            kind="attempt", role="solve", task_type=task_type, texts={"answer": answer},
            data={"results": [result_dict(r) for r in results], "correct": correct, "reward": reward},
        ))

    def tripwire_tasks(self, step: int) -> list[Canary]:
        """Canaries to pose to the solver at ``step`` (empty on most steps). Never buffer them."""
        if not self.config.enabled:
            return []
        return self.tripwires.canaries(step)

    def check_tripwire(self, canary: Canary, answer: str | None, runner: SnippetRunner, completion: str = "") -> Decision:
        """Run the solver's program for a canary in the real executor and raise any alert."""
        result, findings = self.tripwires.check(canary, answer, runner)
        event = Event(kind="tripwire", role="solve", task_type=canary.task_type,
                      texts={"answer": answer or "", "completion": completion},
                      data={"canary_id": canary.canary_id, "canary": canary.kind, "outcome": result.outcome,
                            "detail": result.detail})
        if findings:
            log.warning("tripwire fired (the solver tried what the sandbox forbids): %s", findings[0].reason)
        return self._decide(event, findings)

    def end_step(self, step: int, metrics: dict[str, float]) -> Action:
        """Close the step's tally and return what the loop must do; PAUSE/STOP are also written
        to the run directory so the run cannot continue without ``azr resume``."""
        if not self.config.enabled:
            return Action.CONTINUE
        self.observe(Event(kind="step_metrics", data={"metrics": dict(metrics)}))
        self.throttle.commit(step)
        action = self.throttle.decide(step)
        if action.kind is not ActionKind.CONTINUE:
            log.warning("oversight asks to %s: %s", action.kind.value, action.reason)
            self._records.append((RECORD_KIND, {"event": "action", "action": action.kind.value,
                                                "seconds": action.seconds, "reason": action.reason}))
        if action.kind in (ActionKind.PAUSE, ActionKind.STOP):
            write_pause(self.run_dir, action, step)
        return action

    def drain_records(self) -> list[tuple[str, dict[str, Any]]]:
        """The ``(kind, payload)`` records gathered since the last drain, for the step's transaction."""
        records, self._records = self._records, []
        return records

    def write_scorecard(self, step: int, final: bool = False) -> Path | None:
        """After the step's transaction commits: write the scorecard if it is due (always when
        ``final``), from the run's ledger. Returns the Markdown path, or None when not due."""
        if not (final or self.scorecards.due(step)):
            return None
        return self.scorecards.write_from_ledger(step, final)

    def _decide(self, event: Event, findings: list[Finding]) -> Decision:
        penalty = self.config.auditor.reward_penalty if any(f.monitor == ReasoningAuditor.name for f in findings) else 0.0
        decision = Decision.from_findings(findings, reward_penalty=penalty)
        self.throttle.observe(decision)
        self._records.append((RECORD_KIND, _payload(event, decision)))
        return decision


def _payload(event: Event, decision: Decision) -> dict[str, Any]:
    """A decision as a ledger payload; flagged and vetoed events keep their texts verbatim."""
    payload: dict[str, Any] = {
        "event": "decision",
        "on": event.kind,
        "role": event.role,
        "task_type": event.task_type,
        "verdict": decision.verdict,
        "reward_penalty": decision.reward_penalty,
        "findings": [f.to_dict() for f in decision.findings],
    }
    if event.kind == "tripwire":
        payload["tripwire"] = dict(event.data)
    if event.data.get("formal"):
        payload["formal"] = event.data["formal"]
    if decision.verdict != "allow":
        payload["sample"] = {name: text for name, text in event.texts.items() if text}
        if event.data.get("inputs"):
            payload["sample"]["inputs"] = "\n".join(event.data["inputs"])
    return payload
