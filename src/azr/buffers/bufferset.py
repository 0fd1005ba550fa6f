"""The buffers of all task types together: routing by type and sampling across types.

Proposer prompts draw reference tasks from the union of several types' buffers (an
abduction prompt may show deduction tasks: they share the triplet form), so sampling is
uniform over the union, not per buffer.
"""

from __future__ import annotations

import random
from typing import Any, Callable, Generic, Sequence

from azr.buffers.buffer import T, TaskBuffer, TaskBufferError, default_encode, draw


class BufferSet(Generic[T]):
    """One :class:`TaskBuffer` per task type, with the capacities given."""

    def __init__(self, capacities: dict[str, int]) -> None:
        if not capacities:
            raise TaskBufferError("a buffer set needs at least one task type")
        self._buffers = {name: TaskBuffer[T](name, capacity) for name, capacity in capacities.items()}

    def buffer(self, task_type: str) -> TaskBuffer[T]:
        try:
            return self._buffers[task_type]
        except KeyError:
            known = ", ".join(sorted(self._buffers))
            raise TaskBufferError(f"no buffer for task type {task_type!r}; this run has: {known}") from None

    def add(self, item: T, provenance: dict[str, Any]) -> bool:
        """Route ``item`` to its type's buffer; False when it was already there."""
        return self.buffer(item.task_type).add(item, provenance)

    def block(self, key: str) -> list[str]:
        """Remove the task with this key from every buffer and keep it out of all of them.

        Returns the task types whose buffer held it."""
        return [name for name, buffer in self._buffers.items() if buffer.block(key)]

    def sample(self, task_types: Sequence[str], k: int, rng: random.Random, fill: bool = False) -> list[T]:
        """Up to ``k`` distinct items, uniform over the union of the named types' buffers."""
        items = [entry.item for name in task_types for entry in self.buffer(name).entries()]
        return draw(items, k, rng, fill)

    def sizes(self) -> dict[str, int]:
        return {name: len(buffer) for name, buffer in self._buffers.items()}

    def state_dict(self, encode: Callable[[T], Any] = default_encode) -> dict[str, Any]:
        """Every buffer's snapshot, keyed by task type; JSON-serialisable."""
        return {name: buffer.state_dict(encode) for name, buffer in self._buffers.items()}

    def load_state_dict(self, state: dict[str, Any], decode: Callable[[Any], T]) -> None:
        """Restore every buffer; the saved task types must be this set's task types."""
        if set(state) != set(self._buffers):
            raise TaskBufferError(
                f"saved buffers are for task types {sorted(state)}, this run has {sorted(self._buffers)}; "
                "resume with the task types the run started with"
            )
        for name, buffer in self._buffers.items():
            buffer.load_state_dict(state[name], decode)
