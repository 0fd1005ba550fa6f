"""A stand-in for MiniLM in unit tests: hashed bag of lower-cased words, never a real model."""

import re
import zlib
from collections.abc import Sequence

import numpy as np


class BagOfWordsEmbedder:
    """Stand-in for MiniLM in unit tests: hashed bag of lower-cased words, unit length."""

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(sentences), 256), dtype=np.float32)
        for row, sentence in enumerate(sentences):
            for word in re.findall(r"[a-z]+", sentence.lower()):
                out[row, zlib.crc32(word.encode()) % 256] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
