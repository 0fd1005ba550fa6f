"""Math benchmarks: each loader on the shared data, and math-verify's verdict on right and wrong answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from azr.eval.benchmarks import select
from azr.eval.benchmarks.base import Record
from azr.eval.benchmarks.math import MathBenchmark

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared benchmark data not found at {DATA}")

SIZES = {"gsm8k": 1319, "math500": 500, "aime24": 30, "aime25": 30, "amc23": 40, "minerva": 272, "olympiadbench": 675}
# What a correct final answer looks like for the first record of each set (read from the data).
FIRST_ANSWER = {
    "gsm8k": "18",
    "math500": "\\left( 3, \\frac{\\pi}{2} \\right)",
    "aime24": "204",
    "aime25": "70",
    "amc23": "27",
    "minerva": "1.6",
    "olympiadbench": "2",
}


class NoRunner:
    """Math judging must not run code; this runner fails the test if it is asked to."""

    def run_batch(self, snippets):  # noqa: ANN001, ANN201
        raise AssertionError("math judging ran code")


@needs_data
@pytest.mark.parametrize("name", sorted(SIZES))
def test_loader_reads_every_record_with_a_problem_and_a_reference(name: str) -> None:
    bench = select(name)[0]
    records = bench.load(DATA)
    assert len(records) == SIZES[name]
    assert len({r.id for r in records}) == len(records)
    assert all(r.fields["problem"].strip() and r.fields["gold"].strip() for r in records)
    prompt = bench.prompt(records[0])
    assert records[0].fields["problem"] in prompt and prompt.endswith("Solution:")


@needs_data
@pytest.mark.parametrize("name", sorted(SIZES))
def test_known_right_answer_scores_and_a_wrong_one_does_not(name: str) -> None:
    bench = select(name)[0]
    record = bench.load(DATA)[0]
    right = f"Working it out carefully gives the result. The final answer is \\boxed{{{FIRST_ANSWER[name]}}}."
    wrong = "Working it out carefully gives the result. The final answer is \\boxed{98765}."
    judged = bench.judge([record, record], [right, wrong], NoRunner())
    assert [j.correct for j in judged] == [True, False]
    assert judged[1].answer == "98765"


def test_equivalent_forms_count_and_a_missing_answer_is_explained() -> None:
    bench = select("math500")[0]
    assert isinstance(bench, MathBenchmark)
    record = Record("x", {"problem": "p", "gold": "$\\frac{1}{2}$"})
    judged = bench.judge([record] * 3, ["so \\boxed{0.5}", "the answer is $1/2$", "I do not know."], NoRunner())
    assert [j.correct for j in judged] == [True, True, False]
    assert judged[2].reason == "no final answer found"


def test_gsm8k_reference_is_the_number_after_the_marker_without_thousands_commas() -> None:
    bench = select("gsm8k")[0]
    [record] = bench.records([{"question": "q", "answer": "lots of steps <<1+1=2>>\n#### 1,234"}])
    assert record.fields["gold"] == "$1234$"
    assert bench.judge([record], ["\\boxed{1234}"], NoRunner())[0].correct
