"""HumanEval+ and MBPP+: evalplus's loaders on the shared files, differential tests in our sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from azr.eval.benchmarks import select
from azr.eval.benchmarks.base import Benchmark, Record
from azr.eval.benchmarks.evalplus_code import strip_fences
from azr.executor import Executor, ExecutorConfig

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared benchmark data not found at {DATA}")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Executor]:
    with Executor(ExecutorConfig(workers=2, seed_slots=1)) as executor:
        yield executor


def _records(name: str, ids: list[str]) -> tuple[Benchmark, dict[str, Record]]:
    bench = select(name)[0]
    records = {r.id: r for r in bench.load(DATA)}
    return bench, {i: records[i] for i in ids}


def test_fenced_code_is_unwrapped() -> None:
    assert strip_fences("Here:\n```python\ndef f():\n    return 1\n```\nDone.") == "def f():\n    return 1\n"
    assert strip_fences("```\nx = 1\n```") == "x = 1\n"
    assert strip_fences("    return 1\n") == "    return 1\n"


@needs_data
def test_loaders_read_the_full_sets_through_evalplus() -> None:
    humaneval, mbpp = select("humaneval+,mbpp+")
    he = humaneval.load(DATA)
    mb = mbpp.load(DATA)
    assert (len(he), len(mb)) == (164, 378)
    assert he[0].id == "HumanEval/0" and len(he[0].fields["plus_input"]) > 100
    # evalplus's loader turns MBPP's JSON lists back into the tuples the functions take.
    assert isinstance(mb[0].fields["base_input"][0][0], tuple)


@needs_data
def test_humaneval_plus_verdicts(sandbox: Executor) -> None:
    bench, recs = _records("humaneval+", ["HumanEval/0", "HumanEval/32"])
    first, roots = recs["HumanEval/0"], recs["HumanEval/32"]
    wrong_by_plus = "    return any(abs(a - b) < threshold for a, b in zip(numbers, numbers[1:]))\n"
    chat_reply = (
        "Here is the function:\n```python\ndef has_close_elements(numbers, threshold):\n"
        "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n```"
    )
    # find_zero has many right answers and evalplus accepts any root: (x-1)(x-2)(x-3) has
    # root 1 (the reference's) and 3 (ours), while 2.5 is no root.
    cubic = Record(roots.id, {**roots.fields, "base_input": [[[-6, 11, -6, 1]]], "plus_input": []})
    cases = [
        (first, first.fields["canonical_solution"], True),
        (first, "    return False\n", False),
        (first, wrong_by_plus, False),  # right on neighbours only: fails once inputs are unsorted
        (first, chat_reply, True),
        (first, "    while True:\n        pass\n", False),
        (cubic, "    return 3.0\n", True),
        (cubic, "    return 2.5\n", False),
    ]
    judged = bench.judge([c[0] for c in cases], [c[1] for c in cases], sandbox)
    assert [j.correct for j in judged] == [c[2] for c in cases]
    assert "wrong result" in judged[1].reason
    assert judged[4].reason == "timed out" or judged[4].reason.startswith("stopped by the sandbox")
    assert bench.mode(roots) == "poly_root"


@needs_data
def test_mbpp_plus_verdicts(sandbox: Executor) -> None:
    bench, recs = _records("mbpp+", ["Mbpp/2", "Mbpp/737"])
    shared, check = recs["Mbpp/2"], recs["Mbpp/737"]
    cases = [
        (shared, shared.fields["canonical_solution"], True),
        # evalplus compares this task's results as sets, so element order does not matter.
        (shared, "def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b), reverse=True))\n", True),
        (shared, "def similar_elements(a, b):\n    return tuple(set(a) | set(b))\n", False),
        (shared, "def other_name(a, b):\n    return ()\n", False),
        (check, check.fields["canonical_solution"], True),
        (check, "```python\nimport re\ndef check_str(s):\n    return bool(re.match('^[aeiouAEIOU]', s))\n```", True),
    ]
    judged = bench.judge([c[0] for c in cases], [c[1] for c in cases], sandbox)
    assert [j.correct for j in judged] == [c[2] for c in cases]
    assert judged[3].reason == "no function named similar_elements"
