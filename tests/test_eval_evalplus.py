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
    assert judged[3].reason.endswith("no function named similar_elements")


# Small inline problems: no data set needed. The reference returns a + b (an int) or a word
# reversed (a str); atol 0 means evalplus's 1e-6 for floats.
_ADD = Record("inline/add", {
    "prompt": 'def add(a, b):\n    """The sum of a and b."""\n',
    "entry_point": "add",
    "canonical_solution": "    return a + b\n",
    "base_input": [[1, 2], [3, 4]],
    "plus_input": [[-5, 5], [10**40, 1]],
    "atol": 0,
})
_REVERSE = Record("inline/reverse", {
    "prompt": 'def reverse(word):\n    """The word backwards."""\n',
    "entry_point": "reverse",
    "canonical_solution": "    return word[::-1]\n",
    "base_input": [["abc"], ["noon"]],
    "plus_input": [["x" * 50000 + "y"]],
    "atol": 0,
})
_MEAN = Record("inline/mean", {
    "prompt": 'def mean(xs):\n    """The mean of xs."""\n',
    "entry_point": "mean",
    "canonical_solution": "    return sum(xs) / len(xs)\n",
    "base_input": [[[0.1, 0.2, 0.3]], [[1.0, 2.0]]],
    "plus_input": [],
    "atol": 0,
})


def _verdicts(cases: list[tuple[Record, str]], runner: Executor) -> list[bool]:
    bench = select("humaneval+")[0]
    return [j.correct for j in bench.judge([c[0] for c in cases], [c[1] for c in cases], runner)]


def test_honest_solutions_pass_and_wrong_ones_fail(sandbox: Executor) -> None:
    cases = [
        (_ADD, "    return a + b\n"),
        (_ADD, "def add(a, b):\n    return b + a\n"),
        (_ADD, "    return a - b\n"),
        (_REVERSE, "    return ''.join(reversed(word))\n"),  # its long output is compared by digest
        (_REVERSE, "    return word[::-1] if len(word) < 100 else word\n"),
        (_MEAN, "    return sum(x / len(xs) for x in xs)\n"),  # within evalplus's float tolerance
        (_MEAN, "    return sum(xs) / len(xs) + 1e-3\n"),
    ]
    assert _verdicts(cases, sandbox) == [True, True, False, True, False, True, False]


def test_the_comparison_is_type_strict(sandbox: Executor) -> None:
    # evalplus's == would forgive both; a value of another type is another answer here.
    cases = [(_ADD, "    return float(a + b)\n"), (_ADD, "    return str(a + b)\n")]
    assert _verdicts(cases, sandbox) == [False, False]


_WRONG = "def add(a, b):\n    return 0\n"
_FORGED_FRAME = "from azr.executor.confine import RESULT_FD\nimport os\nos.write(RESULT_FD, b\"V('pass', 4)\")\nos._exit(0)\n"
_FORGERIES = {
    "a pass frame written to the result fd": _FORGED_FRAME + _WRONG,
    "a pass frame printed after pointing stdout at the result fd": (
        "from azr.executor.confine import RESULT_FD\nimport os, sys\nos.dup2(RESULT_FD, 1)\n"
        "print(\"V('pass', 4)\", end='')\nsys.stdout.flush()\nos._exit(0)\n" + _WRONG
    ),
    "the judge patched through sys._getframe": (
        "import sys\nsys._getframe(1).f_globals['_agrees'] = lambda *args: True\n" + _WRONG
    ),
    "the judge patched through gc": (
        "import gc\nfor o in gc.get_objects():\n"
        "    if isinstance(o, dict) and '_agrees' in o:\n        o['_agrees'] = lambda *args: True\n" + _WRONG
    ),
    "the reference read out of the harness and run": (
        "import sys\n_ns = {}\nexec(sys._getframe(1).f_globals['_REFERENCE'], _ns)\nadd = _ns['add']\n"
    ),
    "an always-equal object": (
        "class _Any:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n"
        "def add(a, b):\n    return _Any()\n"
    ),
    "an always-equal object that prints as a literal": (
        "class _Any:\n    def __eq__(self, other):\n        return True\n    def __repr__(self):\n        return '3'\n"
        "    __hash__ = object.__hash__\ndef add(a, b):\n    return _Any()\n"
    ),
    "an int subclass whose __eq__ always answers True": (
        "class _Int(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n"
        "def add(a, b):\n    return _Int(0)\n"
    ),
}


@pytest.mark.parametrize("attack", list(_FORGERIES))
def test_a_wrong_candidate_cannot_forge_its_verdict(sandbox: Executor, attack: str) -> None:
    [judged] = select("humaneval+")[0].judge([_ADD], [_FORGERIES[attack]], sandbox)
    assert not judged.correct, judged.reason


def test_a_str_subclass_whose_eq_always_answers_true_is_wrong(sandbox: Executor) -> None:
    code = (
        "class _Str(str):\n    def __eq__(self, other):\n        return True\n    __hash__ = str.__hash__\n"
        "def reverse(word):\n    return _Str('')\n"
    )
    assert _verdicts([(_REVERSE, code)], sandbox) == [False]


def test_outputs_longer_than_the_executors_value_limit_are_split_across_runs() -> None:
    # 20 inputs of ~50 characters of output each overflow a 256-character value limit, so
    # the reference's slice is halved until each fits; the candidate runs on those slices.
    record = Record("inline/long", {
        "prompt": 'def pad(n):\n    """n as a 40-character string."""\n',
        "entry_point": "pad",
        "canonical_solution": "    return str(n).rjust(40, '.')\n",
        "base_input": [[n] for n in range(20)],
        "plus_input": [],
        "atol": 0,
    })
    with Executor(ExecutorConfig(workers=1, seed_slots=1, max_value_bytes=256)) as small:
        honest = "    return '.' * (40 - len(str(n))) + str(n)\n"
        assert _verdicts([(record, honest), (record, "    return str(n).rjust(41, '.')\n")], small) == [True, False]
