"""The reasoning auditor: reads every completion, proposer and solver, for concerning intent.

The lexicon catches the plain phrasings with exact spans; the intent classifier (and,
when enabled, the prototype matcher) catches paraphrases sentence by sentence; an LM judge,
when configured, reads whole texts. The auditor only flags: whether a flag costs reward is
the hub's business (``auditor.reward_penalty``, off by default and best left off).
"""

from __future__ import annotations

from typing import Sequence

from azr.oversight.config import AuditorConfig
from azr.oversight.decision import Finding
from azr.oversight.errors import OversightConfigError
from azr.oversight.events import Event
from azr.oversight.intent import IntentClassifier
from azr.oversight.judge import LMJudge
from azr.oversight.lexicon import build_lexicon
from azr.oversight.semantic import (
    Embedder,
    MiniLMEmbedder,
    RepeatCache,
    SemanticMatcher,
)

REASONING_FIELDS = ("reasoning", "completion")


class ReasoningAuditor:
    """Lexicon, intent classifier, optional prototype matcher and optional LM judge over reasoning."""

    name = "reasoning_auditor"
    watches = frozenset({"proposal", "completion"})

    def __init__(self, config: AuditorConfig, embedder: Embedder | None = None, judge: LMJudge | None = None) -> None:
        self.config = config
        self.lexicon = build_lexicon(config.lexicons, config.extra_categories, config.disabled_categories, self.name)
        if config.semantic.enabled or config.intent.enabled:
            embedder = RepeatCache(embedder or MiniLMEmbedder(config.intent.device, config.intent.batch_size))
        self.semantic = SemanticMatcher(config.semantic, embedder, self.name) if config.semantic.enabled else None
        self.intent = IntentClassifier(config.intent, embedder, self.name) if config.intent.enabled else None
        if judge is None and config.judge.enabled:
            judge = LMJudge(config.judge, monitor=self.name)
        self.judge = judge
        if self.judge is not None and config.judge.escalate_above is not None and self.intent is None:
            raise OversightConfigError("auditor.judge.escalate_above needs the intent classifier (auditor.intent.enabled=true)")

    def review(self, event: Event) -> list[Finding]:
        return self.review_texts([_reasoning(event)])[0]

    def review_texts(self, texts: Sequence[tuple[str, str]]) -> list[list[Finding]]:
        """Audit several (field, text) pairs at once; the embedding model sees one batch."""
        results = [self.lexicon.scan(field, text) if text else [] for field, text in texts]
        if self.semantic is not None:
            for found, extra in zip(results, self.semantic.scan_many(texts)):
                found.extend(extra)
        scores = [1.0] * len(texts)
        if self.intent is not None:
            for index, (score, extra) in enumerate(self.intent.scored(texts)):
                results[index].extend(extra)
                scores[index] = score
        if self.judge is not None:
            floor = self.config.judge.escalate_above
            chosen = [i for i, (_, text) in enumerate(texts) if text and (floor is None or scores[i] >= floor)]
            for index, extra in zip(chosen, self.judge.scan_many([texts[i] for i in chosen])):
                results[index].extend(extra)
        return results


def _reasoning(event: Event) -> tuple[str, str]:
    for field in REASONING_FIELDS:
        if event.texts.get(field):
            return field, event.texts[field]
    return "reasoning", ""
