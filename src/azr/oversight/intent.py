"""A learned intent classifier over sentence embeddings: the auditor's main paraphrase catcher.

Prototype matching (``semantic.py``) compares each sentence with a few dozen hand-picked
sentences and tops out near 60% recall on paraphrases. This classifier is a multinomial
logistic regression over the same MiniLM vectors, fitted on the corpus this project wrote
(hundreds of phrasings per category and as many benign near misses) plus ordinary
sentences of the default model, so the boundary is learned rather than placed by hand.

A text is scored unit by unit: each prose sentence, each pair of neighbouring sentences
(an intent split over two sentences), and each code comment (``# don't let the checker
see this``). The text's score is its worst unit's probability of not being benign.
The fitted weights are small (a 384 x 8 matrix) and ship with the package; ``fit_head``
refits them from any corpus.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from azr.oversight.config import IntentConfig
from azr.oversight.corpus import BENIGN, CorpusItem
from azr.oversight.decision import Finding, Span
from azr.oversight.errors import OversightConfigError
from azr.oversight.semantic import Embedder, MiniLMEmbedder, Segment, segments

log = logging.getLogger(__name__)

PACKAGED_HEAD = "intent_head.npz"
_COMMENT = re.compile(r"(?:^|[ \t])#[ \t]*([^\n]*[A-Za-z][^\n]*)")


@dataclass(frozen=True)
class IntentHead:
    """Weights of the classifier: ``classes[0]`` is ``benign``, the rest concerning categories."""

    classes: tuple[str, ...]
    weights: np.ndarray
    bias: np.ndarray

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = vectors @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def concern(self, vectors: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Per row: the probability of any concerning class, and the likeliest such class."""
        probs = self.probabilities(vectors)
        categories = [self.classes[1 + int(i)] for i in probs[:, 1:].argmax(axis=1)]
        return 1.0 - probs[:, 0], categories

    def save(self, path: Path) -> None:
        np.savez(path, classes=np.array(self.classes), weights=self.weights, bias=self.bias)


def load_head(source: str) -> IntentHead:
    """The packaged head, or one saved by :func:`fit_head` at a path."""
    if source == "packaged":
        path = Path(str(resources.files("azr.oversight").joinpath(f"corpus/{PACKAGED_HEAD}")))
    else:
        path = Path(source)
    if not path.is_file():
        raise OversightConfigError(f"intent head {source!r} does not exist (use 'packaged' for the shipped one)")
    try:
        with np.load(path) as data:
            classes = tuple(str(c) for c in data["classes"])
            head = IntentHead(classes, data["weights"].astype(np.float32), data["bias"].astype(np.float32))
    except (OSError, KeyError, ValueError) as exc:
        raise OversightConfigError(f"intent head {path} is unreadable ({exc}); refit it with fit_head") from exc
    if not classes or classes[0] != BENIGN or head.weights.shape != (head.weights.shape[0], len(classes)):
        raise OversightConfigError(f"intent head {path} is malformed: classes {classes}, weights {head.weights.shape}")
    return head


def units(text: str, min_words: int, max_words: int) -> list[Segment]:
    """What the classifier scores in one text: sentences, neighbouring pairs and code comments."""
    sentences = segments(text, min_words, max_words)
    found = list(sentences)
    for first, second in zip(sentences, sentences[1:]):
        if second.start - first.end <= 3:
            found.append(Segment(first.start, second.end, text[first.start:second.end]))
    for match in _COMMENT.finditer(text):
        comment = match.group(1).strip()
        if len(comment.split()) >= min_words and not any(s.start <= match.start(1) < s.end for s in sentences):
            start = match.start(1)
            found.append(Segment(start, start + len(comment), comment))
    return found


def fit_head(
    items: Sequence[CorpusItem],
    embedder: Embedder,
    benign_sentences: Sequence[str] = (),
    regularization: float = 4.0,
    min_words: int = 3,
    max_words: int = 40,
) -> IntentHead:
    """Fit the classifier on corpus items and extra benign sentences (ordinary completions).

    Each item counts whole, and each unit of a benign item counts as benign too. A
    concerning item of several sentences is labelled as a whole only: the concerning part
    may be one sentence among innocent ones, so after a first fit its likeliest unit joins
    the positives (a single round of multiple-instance learning).
    """
    from sklearn.linear_model import LogisticRegression

    classes = (BENIGN,) + tuple(sorted({item.target for item in items if item.concerning}))
    texts = [item.text for item in items]
    labels = [item.target for item in items]
    for item in items:
        if not item.concerning:
            texts.extend(u.text for u in units(item.text, min_words, max_words))
            labels.extend(BENIGN for _ in units(item.text, min_words, max_words))
    texts.extend(benign_sentences)
    labels.extend(BENIGN for _ in benign_sentences)

    def fit(all_texts: list[str], all_labels: list[str]) -> IntentHead:
        vectors = embedder.encode(all_texts)
        y = np.array([classes.index(label) for label in all_labels])
        model = LogisticRegression(C=regularization, max_iter=2000, class_weight="balanced")
        model.fit(vectors, y)
        return IntentHead(classes, model.coef_.T.astype(np.float32), model.intercept_.astype(np.float32))

    head = fit(texts, labels)
    extra_texts, extra_labels = [], []
    for item in items:
        parts = units(item.text, min_words, max_words) if item.concerning else []
        if len(parts) > 1:
            scores, _ = head.concern(embedder.encode([p.text for p in parts]))
            extra_texts.append(parts[int(np.argmax(scores))].text)
            extra_labels.append(item.target)
    return fit(texts + extra_texts, labels + extra_labels) if extra_texts else head


class IntentClassifier:
    """Scores every unit of each text and flags texts whose worst unit passes the threshold."""

    def __init__(self, config: IntentConfig, embedder: Embedder | None = None, monitor: str = "reasoning_auditor") -> None:
        self.config = config
        self.monitor = monitor
        self.embedder = embedder if embedder is not None else MiniLMEmbedder(config.device, config.batch_size)
        self.head = load_head(config.head)

    def scores(self, texts: Sequence[str]) -> list[tuple[float, Segment | None, str]]:
        """Per text: its worst unit's score, that unit, and the unit's likeliest category."""
        per_text = [units(text, self.config.min_words, self.config.max_words) for text in texts]
        flat = [unit for found in per_text for unit in found]
        results: list[tuple[float, Segment | None, str]] = [(0.0, None, "") for _ in texts]
        if not flat:
            return results
        concern, categories = self.head.concern(self.embedder.encode([u.text for u in flat]))
        row = 0
        for index, found in enumerate(per_text):
            if found:
                best = row + int(np.argmax(concern[row:row + len(found)]))
                results[index] = (float(concern[best]), flat[best], categories[best])
            row += len(found)
        return results

    def scan_many(self, texts: Sequence[tuple[str, str]]) -> list[list[Finding]]:
        return [found for _, found in self.scored(texts)]

    def scored(self, texts: Sequence[tuple[str, str]]) -> list[tuple[float, list[Finding]]]:
        """Per text: its score, and a finding on its worst unit when that passes the threshold."""
        results: list[tuple[float, list[Finding]]] = []
        for (field, _), (score, unit, category) in zip(texts, self.scores([text for _, text in texts])):
            if unit is None or score < self.config.threshold:
                results.append((score, []))
                continue
            results.append((score, [Finding(
                monitor=self.monitor,
                kind=category,
                severity=self.config.severity,
                reason=f"the reasoning reads like {category.replace('_', ' ')} (intent classifier {score:.2f})",
                span=Span(field=field, start=unit.start, end=unit.end, text=unit.text),
                score=score,
            )]))
        return results
