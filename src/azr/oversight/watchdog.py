"""The task watchdog: may a proposed task enter a buffer at all?

Two layers. The AST safety policy of :mod:`azr.tasks.safety` (the same one validation
uses) decides what the program may *do*; content rules decide what the task may be
*about*, reading the code, its comments, the inputs and the induction message. A hook
lets a learned classifier add its own findings.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Sequence

from azr.oversight.config import WatchdogConfig
from azr.oversight.decision import Finding, Span
from azr.oversight.errors import OversightConfigError
from azr.oversight.events import Event
from azr.oversight.lexicon import build_lexicon
from azr.tasks.safety import SafetyPolicy

@dataclass(frozen=True)
class TaskText:
    """The parts of a proposed task a reader could be worried by."""

    task_type: str
    program: str
    inputs: tuple[str, ...] = ()
    message: str = ""

    def fields(self) -> dict[str, str]:
        return {"program": self.program, "inputs": "\n".join(self.inputs), "message": self.message}


TaskClassifier = Callable[[TaskText], Sequence[Finding]]


def load_classifier(spec: str) -> TaskClassifier:
    """Import ``module:attribute`` and check that it is callable."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise OversightConfigError(f"classifier {spec!r} must be written 'package.module:callable'")
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise OversightConfigError(f"cannot load classifier {spec!r}: {exc}") from exc
    if not callable(target):
        raise OversightConfigError(f"classifier {spec!r} is not callable")
    return target


class TaskWatchdog:
    """Reviews proposals: safety-policy violations and out-of-scope content veto the task."""

    name = "task_watchdog"
    watches = frozenset({"proposal"})

    def __init__(
        self,
        config: WatchdogConfig,
        safety_policy: SafetyPolicy | None = None,
        classifier: TaskClassifier | None = None,
    ) -> None:
        self.config = config
        self.lexicon = build_lexicon(config.lexicons, config.extra_categories, config.disabled_categories, self.name)
        self.safety_policy = (safety_policy or SafetyPolicy()) if config.safety_policy else None
        self.classifier = classifier if classifier is not None else (
            load_classifier(config.classifier) if config.classifier else None
        )

    def review(self, event: Event) -> list[Finding]:
        task = TaskText(
            task_type=event.task_type,
            program=event.texts.get("program", ""),
            inputs=tuple(event.data.get("inputs", ())),
            message=event.texts.get("message", ""),
        )
        return self.review_task(task)

    def review_task(self, task: TaskText) -> list[Finding]:
        findings: list[Finding] = []
        if self.safety_policy is not None and task.program.strip():
            findings.extend(
                Finding(monitor=self.name, kind="safety_policy", severity="high", verdict="veto",
                        reason=f"the AST safety policy rejects the program: {violation}",
                        span=_line_span(task.program, violation.line))
                for violation in self.safety_policy.check(task.program)
                if violation.kind != "syntax"
            )
        for field, text in task.fields().items():
            if text:
                findings.extend(self.lexicon.scan(field, text))
        if self.classifier is not None:
            findings.extend(self.classifier(task))
        return findings


def _line_span(program: str, line: int) -> Span | None:
    """The whole source line a policy violation sits on (lines count from 1)."""
    lines = program.splitlines(keepends=True)
    if not 1 <= line <= len(lines):
        return None
    start = sum(len(text) for text in lines[: line - 1])
    text = lines[line - 1].rstrip("\n")
    return Span(field="program", start=start, end=start + len(text), text=text)
