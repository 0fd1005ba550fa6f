"""Verifier-alignment studies: a verifier that errs at set rates, to see how self-play drifts.

How strong must an automated verifier be before self-improvement stays on track? A run with
``selfplay.verifier_faults.false_accept=0.1`` judges a tenth of the wrong answers correct;
``false_reject`` judges correct answers wrong. Faults touch only what training learns from
(training attempts and learnability rollouts); held-out probes, evaluation and tripwires are
always judged honestly, so the probes measure the drift.

Whether an answer is corrupted is a hash of the run's fault seed, the task and the answer's
text, not a draw from the run's random stream: the same answer to the same task always gets
the same verdict, as a faulty but deterministic checker would, a resumed run decides
exactly as before, and the run's sampling is identical to a run without faults. Every
corrupted verdict says so in its reason, and the attempt record keeps the honest verdict.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import Field

from azr.config import StrictModel
from azr.tasks.base import ParsedAnswer, Verdict, verdict_for
from azr.tasks.triplet import Task

Fault = Literal["false_accept", "false_reject"]
JUDGED_PURPOSES = frozenset({"train", "learnability"})


class VerifierFaultsConfig(StrictModel):
    """Error rates of the answer verifier during training (a study setting; 0 is an honest run)."""

    false_accept: float = Field(0.0, ge=0.0, le=1.0, description="share of wrong, well-formed answers judged correct")
    false_reject: float = Field(0.0, ge=0.0, le=1.0, description="share of correct answers judged wrong")
    seed: int = Field(0, description="which answers are corrupted; the same seed corrupts the same answers")


class VerifierFaults:
    """Turns honest verdicts into faulty ones at the configured rates."""

    def __init__(self, config: VerifierFaultsConfig) -> None:
        self.config = config

    @property
    def active(self) -> bool:
        return self.config.false_accept > 0 or self.config.false_reject > 0

    def _draw(self, task: Task, answer: ParsedAnswer) -> float:
        digest = hashlib.sha256(f"{self.config.seed}\0{task.key()}\0{answer.value}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def judge(self, task: Task, answer: ParsedAnswer, honest: Verdict) -> tuple[Verdict, Fault | None]:
        """The verdict training sees, and which fault made it (None when it is the honest one)."""
        if answer.malformed:
            return honest, None
        if honest.correct and self._draw(task, answer) < self.config.false_reject:
            return verdict_for(answer, False, f"injected false reject (honest: {honest.reason})",
                               honest.results), "false_reject"
        if not honest.correct and self._draw(task, answer) < self.config.false_accept:
            return verdict_for(answer, True, f"injected false accept (honest: {honest.reason})",
                               honest.results), "false_accept"
        return honest, None
