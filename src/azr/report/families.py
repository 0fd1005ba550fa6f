"""Task families: valid proposals embedded, clustered, mapped to 2-D and ranked by growth.

A family that takes a larger share of the newest tasks than of the older ones is what the
curriculum is moving towards; ranking by that change in share (not by size) puts the
emerging families first, the way a reader of a run wants to see them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

from azr.report.config import Embedder
from azr.report.embed import embed_programs
from azr.report.snapshot import ProposalRow

RECENT_FRACTION = 0.25
LABEL_TOKENS = 3
JITTER = 0.015


@dataclass
class Family:
    """One cluster of similar programs, with how its share of new tasks moved."""

    id: int
    label: str
    size: int
    first_step: int
    last_step: int
    early_share: float
    recent_share: float
    growth: float
    task_types: dict[str, int]
    example: ProposalRow


@dataclass
class FamilyMap:
    """Families ranked by growth, and the (sampled) points of the 2-D map."""

    families: list[Family]
    x: list[float]
    y: list[float]
    steps: list[int]
    family_of_point: list[int]
    rows_of_point: list[ProposalRow]


def task_families(rows: list[ProposalRow], embedder: Embedder, max_families: int, map_points: int) -> FamilyMap:
    """Cluster the programs of ``rows`` (valid proposals) into families; see the module docstring."""
    rows = [row for row in rows if row.program.strip()]
    if not rows:
        return FamilyMap([], [], [], [], [], [])
    programs = [row.program for row in rows]
    vectors, vectorizer = embed_programs(programs, embedder)
    labels = _cluster(vectors, max_families)
    coords = _map_2d(vectors)
    tfidf = vectorizer.transform(programs)
    vocabulary = vectorizer.get_feature_names_out()
    steps = np.array([row.step for row in rows])
    recent_from = _recent_from(steps)
    families = []
    for family_id in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == family_id)
        families.append(_describe(family_id, members, rows, vectors, tfidf, vocabulary, steps, recent_from, labels))
    families.sort(key=lambda fam: (fam.growth, fam.first_step, fam.size), reverse=True)
    sample = _sample(len(rows), map_points)
    return FamilyMap(
        families=families,
        x=[float(coords[i, 0]) for i in sample],
        y=[float(coords[i, 1]) for i in sample],
        steps=[int(steps[i]) for i in sample],
        family_of_point=[int(labels[i]) for i in sample],
        rows_of_point=[rows[i] for i in sample],
    )


def _cluster(vectors: np.ndarray, max_families: int) -> np.ndarray:
    """k-means with k growing as the square root of the number of programs, capped."""
    count = len(vectors)
    distinct = len(np.unique(np.round(vectors, 6), axis=0))
    k = min(max_families, distinct, max(1, round(math.sqrt(count / 2))))
    if k <= 1:
        return np.zeros(count, dtype=int)
    return KMeans(n_clusters=k, n_init=3, random_state=0).fit_predict(vectors)


def _map_2d(vectors: np.ndarray) -> np.ndarray:
    """PCA to 2-D, jittered a little: programs of one shape map to one spot and would hide each other."""
    if len(vectors) < 3 or vectors.shape[1] < 2:
        return np.zeros((len(vectors), 2))
    coords = PCA(n_components=2, random_state=0).fit_transform(vectors)
    spread = np.ptp(coords, axis=0) + 1e-9
    return coords + np.random.default_rng(0).normal(0.0, JITTER, coords.shape) * spread


def _recent_from(steps: np.ndarray) -> float:
    """The first step of the recent window: the last quarter of the steps seen."""
    first, last = float(steps.min()), float(steps.max())
    return last - (last - first) * RECENT_FRACTION


def _describe(
    family_id: int,
    members: np.ndarray,
    rows: list[ProposalRow],
    vectors: np.ndarray,
    tfidf: object,
    vocabulary: np.ndarray,
    steps: np.ndarray,
    recent_from: float,
    labels: np.ndarray,
) -> Family:
    recent = steps >= recent_from
    early = ~recent
    mine = labels == family_id
    recent_share = float((mine & recent).sum() / max(1, recent.sum()))
    early_share = float((mine & early).sum() / early.sum()) if early.any() else recent_share
    centroid = vectors[members].mean(axis=0)
    closest = members[int(np.argmax(vectors[members] @ centroid))]
    task_types: dict[str, int] = {}
    for index in members:
        task_types[rows[index].task_type] = task_types.get(rows[index].task_type, 0) + 1
    return Family(
        id=int(family_id),
        label=_label(tfidf, members, vocabulary),
        size=int(len(members)),
        first_step=int(steps[members].min()),
        last_step=int(steps[members].max()),
        early_share=early_share,
        recent_share=recent_share,
        growth=recent_share - early_share,
        task_types=task_types,
        example=rows[closest],
    )


def _label(tfidf: object, members: np.ndarray, vocabulary: np.ndarray) -> str:
    """The tokens that weigh most in this family compared with all programs."""
    weights = np.asarray(tfidf[members].mean(axis=0)).ravel() - np.asarray(tfidf.mean(axis=0)).ravel()  # type: ignore[index, attr-defined]
    top = [vocabulary[i] for i in np.argsort(weights)[::-1][:LABEL_TOKENS] if weights[i] > 0]
    return ", ".join(_pretty(token) for token in top) or "mixed"


def _pretty(token: str) -> str:
    if token.startswith("call:"):
        return f"{token[5:]}()"
    if token.startswith("op:"):
        return token[3:].lower()
    if token.startswith("const:"):
        return f"{token[6:]} literal"
    return token


def _sample(count: int, limit: int) -> list[int]:
    """At most ``limit`` point indices, chosen reproducibly so the map looks the same each build."""
    if count <= limit:
        return list(range(count))
    return sorted(random.Random(0).sample(range(count), limit))
