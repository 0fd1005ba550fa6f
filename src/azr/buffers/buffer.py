"""One task type's pool of valid tasks, each kept with where it came from.

The pool is generic: an item needs only ``key() -> str`` (what makes two tasks the same)
and a ``task_type`` attribute. At capacity the oldest entry goes, because the newest
tasks reflect what the proposer can do now. Sampling takes a ``random.Random`` from the
caller so a run with a fixed seed draws the same references every time.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Generic, Protocol, TypeVar

from azr.errors import AzrError

log = logging.getLogger(__name__)


class TaskBufferError(AzrError):
    """A task does not fit its buffer, or saved buffer state does not fit this run."""


class Keyed(Protocol):
    """What the buffers need of an item."""

    task_type: Any

    def key(self) -> str: ...


T = TypeVar("T", bound=Keyed)


@dataclass
class BufferEntry(Generic[T]):
    """An item, its provenance (step, prompt, reasoning, solve rate, ...) and its arrival order."""

    item: T
    provenance: dict[str, Any]
    seq: int


def default_encode(item: Any) -> dict[str, Any]:
    """Dataclass items serialise field by field; anything else needs its own codec."""
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return dataclasses.asdict(item)
    raise TaskBufferError(
        f"cannot serialise a {type(item).__name__} buffer item: pass an encode function to state_dict"
    )


class TaskBuffer(Generic[T]):
    """A bounded, de-duplicated, insertion-ordered pool of one task type's tasks."""

    def __init__(self, task_type: str, capacity: int) -> None:
        if capacity < 1:
            raise TaskBufferError(f"buffer {task_type!r}: capacity must be at least 1, not {capacity}")
        self.task_type = task_type
        self.capacity = capacity
        self._entries: OrderedDict[str, BufferEntry[T]] = OrderedDict()
        self._seq = 0
        self._blocked: set[str] = set()

    def add(self, item: T, provenance: dict[str, Any]) -> bool:
        """Store ``item`` unless an item with the same key is already here or blocked (then return False).

        Provenance must be JSON-serialisable; it is checked here, where the caller can
        still see which task it belongs to, rather than at the next checkpoint.
        """
        if item.task_type != self.task_type:
            raise TaskBufferError(f"a {item.task_type!r} task cannot go into the {self.task_type!r} buffer")
        key = item.key()
        if not self.admits(key):
            return False
        try:
            json.dumps(provenance)
        except (TypeError, ValueError) as exc:
            raise TaskBufferError(f"buffer {self.task_type!r}: provenance is not JSON-serialisable ({exc})") from exc
        self._seq += 1
        self._entries[key] = BufferEntry(item=item, provenance=dict(provenance), seq=self._seq)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
        return True

    def admits(self, key: str) -> bool:
        """Whether a task with this key would be stored: not here yet and not blocked."""
        return key not in self._entries and key not in self._blocked

    def block(self, key: str) -> bool:
        """Remove the task with this key, if here, and refuse it from now on (a person vetoed it).

        Blocks are not part of :meth:`state_dict`: the run's ledger holds the vetoes and the
        loop blocks them again on resume. Returns whether the task was here.
        """
        self._blocked.add(key)
        return self._entries.pop(key, None) is not None

    def sample(self, k: int, rng: random.Random, fill: bool = False) -> list[T]:
        """Up to ``k`` distinct items drawn uniformly; see :func:`draw` for ``fill``."""
        items = [entry.item for entry in self._entries.values()]
        return draw(items, k, rng, fill)

    def newest(self, n: int) -> list[T]:
        """Up to ``n`` items, newest first."""
        entries = list(self._entries.values())
        return [entry.item for entry in reversed(entries[-n:])] if n > 0 else []

    def entries(self) -> list[BufferEntry[T]]:
        """Every entry, oldest first."""
        return list(self._entries.values())

    def get(self, key: str) -> BufferEntry[T] | None:
        return self._entries.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def state_dict(self, encode: Callable[[T], Any] = default_encode) -> dict[str, Any]:
        """A JSON-serialisable snapshot that :meth:`load_state_dict` restores exactly."""
        return {
            "task_type": self.task_type,
            "capacity": self.capacity,
            "seq": self._seq,
            "entries": [
                {"seq": e.seq, "key": key, "provenance": e.provenance, "item": encode(e.item)}
                for key, e in self._entries.items()
            ],
        }

    def load_state_dict(self, state: dict[str, Any], decode: Callable[[Any], T]) -> None:
        """Replace the contents with a snapshot. Keys are re-derived to catch a mismatched codec.

        A snapshot larger than this buffer's capacity (the capacity was lowered on resume)
        keeps its newest entries, as adding them one by one would.
        """
        if state.get("task_type") != self.task_type:
            raise TaskBufferError(
                f"saved buffer state is for {state.get('task_type')!r} tasks, not {self.task_type!r}"
            )
        entries: OrderedDict[str, BufferEntry[T]] = OrderedDict()
        for saved in state["entries"]:
            item = decode(saved["item"])
            if item.key() != saved["key"]:
                raise TaskBufferError(
                    f"buffer {self.task_type!r}: a decoded task has key {item.key()!r} but was saved as "
                    f"{saved['key']!r}; the decode function does not invert the encode function"
                )
            entries[saved["key"]] = BufferEntry(item=item, provenance=saved["provenance"], seq=saved["seq"])
        dropped = len(entries) - self.capacity
        if dropped > 0:
            log.warning("buffer %r: saved state holds %d tasks, capacity is %d; dropping the %d oldest",
                        self.task_type, len(entries), self.capacity, dropped)
            for _ in range(dropped):
                entries.popitem(last=False)
        self._entries = entries
        self._seq = int(state["seq"])


def draw(items: list[T], k: int, rng: random.Random, fill: bool = False) -> list[T]:
    """Uniform draw without replacement of ``min(k, len(items))`` items.

    A pool smaller than ``k`` gives fewer items by default, so a proposer prompt never
    shows one reference task six times; ``fill=True`` tops the draw up to exactly ``k``
    with repeats, for callers that need a fixed batch size.
    """
    if k <= 0 or not items:
        return []
    if k <= len(items):
        return rng.sample(items, k)
    first = rng.sample(items, len(items))
    return first + rng.choices(items, k=k - len(items)) if fill else first
