"""A learned intent classifier over sentence embeddings: the auditor's main paraphrase catcher.

Prototype matching (``semantic.py``) compares each sentence with a few dozen hand-picked
sentences and tops out near 60% recall on paraphrases. This classifier is a multinomial
logistic regression over the same MiniLM vectors, fitted on the corpus this project wrote
(hundreds of phrasings per category and as many benign near misses) plus ordinary
sentences of the default model, so the boundary is learned rather than placed by hand.

A text is scored unit by unit: each prose sentence, each pair of neighbouring sentences
(an intent split over two sentences), and each code comment (``# don't let the checker
see this``). The text's score is its worst unit's probability of not being benign.
Beside it sits a binary logistic regression over word and character n-grams; a unit's
score is the mean of the two. The fitted weights ship with the package as plain arrays
(no pickle); ``fit_head`` refits them from any corpus.
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


WORD_NGRAMS = {"analyzer": "word", "ngram_range": (1, 2), "sublinear_tf": True}
CHAR_NGRAMS = {"analyzer": "char_wb", "ngram_range": (3, 5), "sublinear_tf": True}


@dataclass(frozen=True)
class NgramModel:
    """A binary logistic regression over word and character n-gram TF-IDF, stored as plain arrays.

    MiniLM vectors blur "fool the grader" into "the grader is strict"; exact n-grams keep that
    difference, and averaging the two classifiers beat either alone in the two-fold measure.
    """

    word_vocab: np.ndarray
    word_idf: np.ndarray
    char_vocab: np.ndarray
    char_idf: np.ndarray
    coef: np.ndarray
    bias: float

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        from scipy.sparse import hstack

        features = hstack([
            _vectorizer(WORD_NGRAMS, self.word_vocab, self.word_idf).transform(texts),
            _vectorizer(CHAR_NGRAMS, self.char_vocab, self.char_idf).transform(texts),
        ]).tocsr()
        return 1.0 / (1.0 + np.exp(-(features @ self.coef + self.bias)))


def _vectorizer(settings: dict, vocab: np.ndarray, idf: np.ndarray):  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(**settings, vocabulary={str(term): i for i, term in enumerate(vocab)})
    vectorizer.idf_ = idf
    return vectorizer


@dataclass(frozen=True)
class IntentHead:
    """The fitted classifier: ``classes[0]`` is ``benign``, the rest concerning categories.

    The embedding part is multinomial (it names the category); the n-gram part, when present,
    only says concerning or not. A unit's score is the mean of the two probabilities.
    """

    classes: tuple[str, ...]
    weights: np.ndarray
    bias: np.ndarray
    ngrams: NgramModel | None = None

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = vectors @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def concern(self, vectors: np.ndarray, texts: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
        """Per row: the probability of any concerning class, and the likeliest such class."""
        probs = self.probabilities(vectors)
        categories = [self.classes[1 + int(i)] for i in probs[:, 1:].argmax(axis=1)]
        concern = 1.0 - probs[:, 0]
        if self.ngrams is not None and texts is not None:
            concern = (concern + self.ngrams.probabilities(texts)) / 2.0
        return concern, categories

    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {"classes": np.array(self.classes), "weights": self.weights, "bias": self.bias}
        if self.ngrams is not None:
            arrays.update({f"ngram_{name}": np.asarray(getattr(self.ngrams, name)) for name in NGRAM_FIELDS})
        np.savez_compressed(path, **arrays)


NGRAM_FIELDS = ("word_vocab", "word_idf", "char_vocab", "char_idf", "coef", "bias")


def load_head(source: str) -> IntentHead:
    """The packaged head, or one saved by :func:`fit_head` at a path."""
    if source == "packaged":
        path = Path(str(resources.files("azr.oversight").joinpath(f"corpus/{PACKAGED_HEAD}")))
    else:
        path = Path(source)
    if not path.is_file():
        raise OversightConfigError(f"intent head {source!r} does not exist (use 'packaged' for the shipped one)")
    try:
        with np.load(path, allow_pickle=False) as data:
            classes = tuple(str(c) for c in data["classes"])
            ngrams = None
            if "ngram_coef" in data:
                fields = {name: data[f"ngram_{name}"] for name in NGRAM_FIELDS}
                ngrams = NgramModel(**{**fields, "bias": float(fields["bias"])})
            head = IntentHead(classes, data["weights"].astype(np.float32), data["bias"].astype(np.float32), ngrams)
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
    ngram_regularization: float = 10.0,
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
            parts = [u.text for u in units(item.text, min_words, max_words)]
            texts.extend(parts)
            labels.extend(BENIGN for _ in parts)
    texts.extend(benign_sentences)
    labels.extend(BENIGN for _ in benign_sentences)

    def fit(all_texts: list[str], all_labels: list[str]) -> IntentHead:
        y = np.array([classes.index(label) for label in all_labels])
        model = LogisticRegression(C=regularization, max_iter=3000, class_weight="balanced")
        model.fit(embedder.encode(all_texts), y)
        ngrams = _fit_ngrams(all_texts, y > 0, ngram_regularization)
        return IntentHead(classes, model.coef_.T.astype(np.float32), model.intercept_.astype(np.float32), ngrams)

    head = fit(texts, labels)
    extra_texts, extra_labels = [], []
    for item in items:
        parts = [u.text for u in units(item.text, min_words, max_words)] if item.concerning else []
        if len(parts) > 1:
            scores, _ = head.concern(embedder.encode(parts), parts)
            extra_texts.append(parts[int(np.argmax(scores))])
            extra_labels.append(item.target)
    return fit(texts + extra_texts, labels + extra_labels) if extra_texts else head


def _fit_ngrams(texts: list[str], concerning: np.ndarray, regularization: float) -> NgramModel:
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    word = TfidfVectorizer(**WORD_NGRAMS, min_df=2).fit(texts)
    char = TfidfVectorizer(**CHAR_NGRAMS, min_df=2).fit(texts)
    features = hstack([word.transform(texts), char.transform(texts)]).tocsr()
    model = LogisticRegression(C=regularization, max_iter=3000, class_weight="balanced").fit(features, concerning)

    def vocab(vectorizer: TfidfVectorizer) -> np.ndarray:
        return np.array(sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get))

    return NgramModel(vocab(word), word.idf_.astype(np.float32), vocab(char), char.idf_.astype(np.float32),
                      model.coef_[0].astype(np.float32), float(model.intercept_[0]))


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
        texts_of_units = [u.text for u in flat]
        concern, categories = self.head.concern(self.embedder.encode(texts_of_units), texts_of_units)
        row = 0
        for index, found in enumerate(per_text):
            if found:
                best = row + int(np.argmax(concern[row:row + len(found)]))
                results[index] = (float(concern[best]), flat[best], categories[best])
            row += len(found)
        return results

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
