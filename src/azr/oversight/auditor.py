"""The reasoning auditor: reads every completion, proposer and solver, for concerning intent.

The lexicon catches the plain phrasings with exact spans; the semantic matcher catches
paraphrases sentence by sentence. The auditor only flags: whether a flag costs reward is
the hub's business (``auditor.reward_penalty``).
"""

from __future__ import annotations

from typing import Sequence

from azr.oversight.config import AuditorConfig
from azr.oversight.decision import Finding
from azr.oversight.events import Event
from azr.oversight.lexicon import build_lexicon
from azr.oversight.semantic import Embedder, SemanticMatcher

REASONING_FIELDS = ("reasoning", "completion")


class ReasoningAuditor:
    """Lexicon plus semantic matching over the reasoning text of an event."""

    name = "reasoning_auditor"
    watches = frozenset({"proposal", "completion"})

    def __init__(self, config: AuditorConfig, embedder: Embedder | None = None) -> None:
        self.config = config
        self.lexicon = build_lexicon(config.lexicons, config.extra_categories, config.disabled_categories, self.name)
        self.semantic = SemanticMatcher(config.semantic, embedder, self.name) if config.semantic.enabled else None

    def review(self, event: Event) -> list[Finding]:
        return self.review_texts([_reasoning(event)])[0]

    def review_texts(self, texts: Sequence[tuple[str, str]]) -> list[list[Finding]]:
        """Audit several (field, text) pairs at once; the embedding model sees one batch."""
        results = [self.lexicon.scan(field, text) if text else [] for field, text in texts]
        if self.semantic is not None:
            for found, extra in zip(results, self.semantic.scan_many(texts)):
                found.extend(extra)
        return results


def _reasoning(event: Event) -> tuple[str, str]:
    for field in REASONING_FIELDS:
        if event.texts.get(field):
            return field, event.texts[field]
    return "reasoning", ""
