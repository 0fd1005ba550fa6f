"""Math word and competition problems, judged for mathematical equivalence by math-verify.

Every set uses the same completion-style prompt: a short instruction, one worked example
that ends in ``\\boxed{...}``, then the problem. Base models copy the pattern, instruct
models follow the instruction; the ``Problem:`` stop keeps a base model from inventing the
next problem. The reference answer and the model's final answer are both parsed by
math-verify (LaTeX and plain expressions, sets, intervals, units) and compared
symbolically, so ``\\frac{1}{2}``, ``0.5`` and ``1/2`` all count.
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

from math_verify import LatexExtractionConfig, parse, verify

from azr.eval.benchmarks.base import Benchmark, Judgement, Record, register
from azr.eval.data import DataSource
from azr.executor.types import SnippetRunner

_PROMPT = (
    "Solve the problem. Reason step by step, then write the final answer as \\boxed{{answer}}.\n\n"
    "Problem: A baker fills boxes with 6 muffins each. She bakes 45 muffins and sells every full "
    "box for $4. How many dollars does she get?\n"
    "Solution: 45 muffins fill 45 // 6 = 7 full boxes (42 muffins, 3 left over). Seven boxes at $4 "
    "each bring 7 * 4 = 28 dollars. The final answer is \\boxed{{28}}.\n\n"
    "Problem: {problem}\n"
    "Solution:"
)
_BOXED_FIRST = [LatexExtractionConfig(boxed_match_priority=0)]


def _as_latex(answer: str) -> str:
    """Wrap a bare reference answer in math delimiters, as math-verify expects of gold text."""
    text = answer.strip()
    return text if text.startswith("$") or "\\boxed" in text else f"${text}$"


class MathBenchmark(Benchmark):
    """A math set: subclasses say which fields hold the problem and the reference answer."""

    family = "math"
    max_new_tokens = 512
    stop = ("\nProblem:", "\n\nProblem")
    problem_field: ClassVar[str] = "problem"

    def records(self, rows: Sequence[dict[str, Any]]) -> list[Record]:
        return [
            Record(id=self.record_id(i, row), fields={"problem": self.problem(row), "gold": self.gold(row)})
            for i, row in enumerate(rows)
        ]

    def record_id(self, index: int, row: dict[str, Any]) -> str:
        return str(row.get("id", row.get("unique_id", row.get("idx", index))))

    def problem(self, row: dict[str, Any]) -> str:
        return str(row[self.problem_field])

    def gold(self, row: dict[str, Any]) -> str:
        """The reference answer as LaTeX text math-verify can parse."""
        return _as_latex(str(row["answer"]))

    def prompt(self, record: Record) -> str:
        return _PROMPT.format(problem=record.fields["problem"])

    def judge(self, records: Sequence[Record], completions: Sequence[str], runner: SnippetRunner) -> list[Judgement]:
        judgements = []
        for record, completion in zip(records, completions):
            gold = parse(record.fields["gold"], extraction_config=_BOXED_FIRST + [LatexExtractionConfig()])
            predicted = parse(completion)
            shown = str(predicted[-1]) if predicted else None
            if not gold:
                judgements.append(Judgement(False, shown, "reference answer could not be parsed"))
            elif not predicted:
                judgements.append(Judgement(False, None, "no final answer found"))
            else:
                correct = verify(gold, predicted)
                judgements.append(Judgement(correct, shown, "" if correct else "not equivalent"))
        return judgements


@register
class GSM8K(MathBenchmark):
    """GSM8K test (1,319 grade-school word problems); the reference follows ``####``."""

    name = "gsm8k"
    title = "GSM8K"
    source = DataSource(local="gsm8k/test.jsonl", hub_id="openai/gsm8k", hub_config="main")
    problem_field = "question"

    def gold(self, row: dict[str, Any]) -> str:
        return _as_latex(str(row["answer"]).split("####")[-1].replace(",", ""))


@register
class Math500(MathBenchmark):
    """MATH500: the 500-problem subset of the MATH test set."""

    name = "math500"
    title = "MATH500"
    source = DataSource(local="math500/test.jsonl", hub_id="HuggingFaceH4/MATH-500")


@register
class AIME24(MathBenchmark):
    """AIME 2024 (30 problems, integer answers 0-999)."""

    name = "aime24"
    title = "AIME24"
    source = DataSource(local="aime24/test.jsonl", hub_id="HuggingFaceH4/aime_2024", hub_split="train")
    max_new_tokens = 768


@register
class AIME25(MathBenchmark):
    """AIME 2025 (I and II, integer answers 0-999)."""

    name = "aime25"
    title = "AIME25"
    source = DataSource(local="aime25/test.jsonl")
    max_new_tokens = 768


@register
class AMC23(MathBenchmark):
    """AMC 2023 (40 problems); references are stored as floats such as ``27.0``."""

    name = "amc23"
    title = "AMC23"
    source = DataSource(local="amc23/test.jsonl")
    max_new_tokens = 768

    def gold(self, row: dict[str, Any]) -> str:
        value = row["answer"]
        return _as_latex(str(int(value)) if isinstance(value, float) and value.is_integer() else str(value))


@register
class Minerva(MathBenchmark):
    """Minerva math (272 university science problems); the reference is the solution's boxed value."""

    name = "minerva"
    title = "Minerva"
    source = DataSource(local="minerva_math/test.jsonl")
    max_new_tokens = 768

    def gold(self, row: dict[str, Any]) -> str:
        return str(row["solution"])


@register
class OlympiadBench(MathBenchmark):
    """OlympiadBench (675 English open-answer math problems); some have context and several answers."""

    name = "olympiadbench"
    title = "OlympiadBench"
    source = DataSource(local="olympiadbench/test.jsonl")
    max_new_tokens = 768
    problem_field = "question"

    def problem(self, row: dict[str, Any]) -> str:
        context = row.get("context")
        return f"{context}\n\n{row['question']}" if context else str(row["question"])

    def gold(self, row: dict[str, Any]) -> str:
        return _as_latex(", ".join(answer.replace("$", "").strip() for answer in row["final_answer"]))
