"""A per-item JSON-lines cache beside the result file, so an interrupted evaluation resumes.

Each line is one finished item: its completions and judgements, under a key hashed from
everything that decides them (model, benchmark, item, prompt text, sampling). A changed
prompt or sampling setting therefore misses the cache instead of reusing stale answers.
Lines are appended and flushed one by one; a line cut off by an interrupt is ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemResult:
    """Everything decided about one item: one entry per sample in each list.

    ``seconds`` is the item's share of its batch's generation and judging time, so a
    resumed run can still say what the whole benchmark cost.
    """

    bench: str
    item: str
    completions: list[str]
    answers: list[str | None]
    correct: list[bool]
    reasons: list[str]
    seconds: float = 0.0

    @property
    def n_correct(self) -> int:
        return sum(self.correct)


def item_key(model: str, bench: str, item: str, prompt: str, sampling: dict[str, Any]) -> str:
    """A stable hash of what determines an item's result."""
    blob = json.dumps(
        {"model": model, "bench": bench, "item": item, "prompt": prompt, "sampling": sampling},
        sort_keys=True,
        ensure_ascii=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


class ItemCache:
    """Finished items read from, and appended to, one JSON-lines file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._items: dict[str, ItemResult] = {}
        self._cut_off = False
        if path.exists():
            self._read()

    def _read(self) -> None:
        skipped = 0
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    row = json.loads(line)
                    key = row.pop("key")
                    self._items[key] = ItemResult(**row)
                except (json.JSONDecodeError, KeyError, TypeError):
                    skipped += 1
        self._cut_off = self.path.stat().st_size > 0 and not self.path.read_bytes().endswith(b"\n")
        if skipped:
            log.warning("%s: ignored %d unreadable line(s), probably cut off by an interrupt", self.path, skipped)

    def get(self, key: str) -> ItemResult | None:
        return self._items.get(key)

    def put(self, key: str, result: ItemResult) -> None:
        self._items[key] = result
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            if self._cut_off:  # end the interrupted line so this one stays readable
                handle.write("\n")
                self._cut_off = False
            handle.write(json.dumps({"key": key, **asdict(result)}) + "\n")
            handle.flush()

    def __len__(self) -> int:
        return len(self._items)
