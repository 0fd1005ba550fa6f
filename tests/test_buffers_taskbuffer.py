"""Task buffers: capacity, de-duplication, sampling and exact resume."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

import pytest

from azr.buffers import BufferSet, TaskBuffer, TaskBufferError


@dataclass(frozen=True)
class FakeTask:
    """A stand-in for azr.tasks.Task: only what the buffers rely on."""

    task_type: str
    program: str
    inputs: tuple[str, ...] = ()

    def key(self) -> str:
        return f"{self.program}|{self.inputs}"


def _decode(data: dict) -> FakeTask:
    return FakeTask(data["task_type"], data["program"], tuple(data["inputs"]))


def _task(i: int, task_type: str = "deduction") -> FakeTask:
    return FakeTask(task_type, f"def f(a): return a + {i}", (str(i),))


def test_at_capacity_the_newest_are_kept() -> None:
    buffer = TaskBuffer("deduction", capacity=3)
    for i in range(5):
        assert buffer.add(_task(i), {"step": i})
    assert len(buffer) == 3
    assert buffer.newest(10) == [_task(4), _task(3), _task(2)]
    assert [e.provenance["step"] for e in buffer.entries()] == [2, 3, 4]


def test_identical_tasks_are_stored_once() -> None:
    buffer = TaskBuffer("deduction", capacity=10)
    assert buffer.add(_task(1), {"step": 1})
    assert not buffer.add(_task(1), {"step": 2})
    assert len(buffer) == 1 and buffer.entries()[0].provenance == {"step": 1}


def test_wrong_type_and_bad_provenance_are_refused() -> None:
    buffer = TaskBuffer("deduction", capacity=10)
    with pytest.raises(TaskBufferError, match="'abduction' task"):
        buffer.add(_task(1, "abduction"), {})
    with pytest.raises(TaskBufferError, match="JSON"):
        buffer.add(_task(1), {"when": object()})
    assert len(buffer) == 0


def test_sampling_is_without_replacement_when_possible() -> None:
    buffer = TaskBuffer("deduction", capacity=100)
    for i in range(8):
        buffer.add(_task(i), {})
    rng = random.Random(0)
    for _ in range(50):
        got = buffer.sample(8, rng)
        assert len(got) == 8 and len(set(got)) == 8
    assert len(buffer.sample(20, rng)) == 8
    filled = buffer.sample(20, rng, fill=True)
    assert len(filled) == 20 and set(filled) == {_task(i) for i in range(8)}
    assert TaskBuffer("deduction", 3).sample(4, rng) == []


def test_sampling_is_uniform_enough() -> None:
    buffer = TaskBuffer("deduction", capacity=100)
    for i in range(4):
        buffer.add(_task(i), {})
    rng = random.Random(1)
    counts = {i: 0 for i in range(4)}
    for _ in range(4000):
        (task,) = buffer.sample(1, rng)
        counts[int(task.inputs[0])] += 1
    assert all(850 < c < 1150 for c in counts.values()), counts


def test_state_round_trip_is_exact_and_json_serialisable() -> None:
    buffer = TaskBuffer("deduction", capacity=4)
    for i in range(6):
        buffer.add(_task(i), {"step": i, "solve_rate": i / 8})
    state = json.loads(json.dumps(buffer.state_dict()))
    restored = TaskBuffer("deduction", capacity=4)
    restored.load_state_dict(state, _decode)
    assert restored.state_dict() == buffer.state_dict()
    assert restored.sample(3, random.Random(5)) == buffer.sample(3, random.Random(5))
    restored.add(_task(9), {})
    assert restored.entries()[-1].seq == 7


def test_restore_into_a_smaller_buffer_keeps_the_newest() -> None:
    buffer = TaskBuffer("deduction", capacity=5)
    for i in range(5):
        buffer.add(_task(i), {})
    smaller = TaskBuffer("deduction", capacity=2)
    smaller.load_state_dict(buffer.state_dict(), _decode)
    assert smaller.newest(5) == [_task(4), _task(3)]


def test_a_codec_that_does_not_round_trip_is_caught() -> None:
    buffer = TaskBuffer("deduction", capacity=5)
    buffer.add(_task(1), {})
    with pytest.raises(TaskBufferError, match="does not invert"):
        TaskBuffer("deduction", 5).load_state_dict(buffer.state_dict(), lambda d: _task(2))
    with pytest.raises(TaskBufferError, match="not 'abduction'"):
        TaskBuffer("abduction", 5).load_state_dict(buffer.state_dict(), _decode)


def test_bufferset_routes_and_samples_the_union() -> None:
    buffers = BufferSet({"deduction": 10, "abduction": 10, "induction": 10})
    for i in range(3):
        buffers.add(_task(i, "deduction"), {})
        buffers.add(_task(i, "abduction"), {})
    buffers.add(_task(0, "induction"), {})
    assert buffers.sizes() == {"deduction": 3, "abduction": 3, "induction": 1}
    got = buffers.sample(["deduction", "abduction"], 6, random.Random(2))
    assert len(set(got)) == 6 and {t.task_type for t in got} == {"deduction", "abduction"}
    with pytest.raises(TaskBufferError, match="this run has"):
        buffers.buffer("nope")


def test_bufferset_state_round_trip() -> None:
    buffers = BufferSet({"deduction": 3, "abduction": 3})
    for i in range(4):
        buffers.add(_task(i, "deduction"), {"step": i})
    restored = BufferSet({"deduction": 3, "abduction": 3})
    restored.load_state_dict(json.loads(json.dumps(buffers.state_dict())), _decode)
    assert restored.state_dict() == buffers.state_dict()
    with pytest.raises(TaskBufferError, match="task types"):
        BufferSet({"deduction": 3}).load_state_dict(buffers.state_dict(), _decode)
