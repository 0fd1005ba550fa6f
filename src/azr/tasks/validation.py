"""Checks shared by every task type: is this a program, is it allowed, and does it run well.

A run is good when it finishes within the time limit, returns a value whose repr is at
most ``max_output_repr`` characters, whose repr is a Python literal that round-trips,
and (for proposals) when two runs in different seed slots give equal values. The seed
slots run in processes with different hash seeds, so a result that leans on ``id()``,
``hash()`` or the iteration order of a set of strings shows up as a difference.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Sequence

from pydantic import Field

from azr.config import StrictModel
from azr.errors import AzrError
from azr.executor.types import ExecResult, Snippet, SnippetRunner
from azr.tasks.literals import LiteralError, canonical_literal, parse_literal, values_equal
from azr.tasks.safety import SafetyPolicy

FUNCTION_NAME = "f"


class ValidationConfig(StrictModel):
    """Limits a task must respect to enter the curriculum (and an answer to be checked)."""

    max_output_repr: int = Field(400, ge=1, description="longest allowed repr of a returned value")
    max_input_chars: int = Field(400, ge=1, description="longest allowed argument text of one input")
    max_program_chars: int = Field(4000, ge=1, description="longest allowed program text")
    timeout_s: float = Field(2.0, gt=0, description="wall-clock limit for one run of a program")
    determinism_slots: list[int] = Field(
        default_factory=lambda: [0, 1],
        min_length=1,
        description="executor seed slots a proposal runs in; outputs must agree across them",
    )


class ExecutorContractError(AzrError):
    """The runner broke its contract (e.g. returned the wrong number of results)."""


def program_syntax_problem(source: str | None) -> str | None:
    """Why ``source`` is not a program defining ``f`` (a malformed answer), or None."""
    if source is None or not source.strip():
        return "no program found"
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        return f"the program does not parse: {getattr(exc, 'msg', exc)}"
    defined = any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == FUNCTION_NAME
        for node in tree.body
    )
    return None if defined else f"the program does not define a top-level function {FUNCTION_NAME!r}"


def program_policy_problem(source: str, safety: SafetyPolicy, config: ValidationConfig) -> str | None:
    """Why a well-formed program may not run (too long, or unsafe), or None."""
    if len(source) > config.max_program_chars:
        return f"the program is {len(source)} characters long (limit {config.max_program_chars})"
    violations = safety.check(source)
    if violations:
        return "unsafe: " + "; ".join(str(v) for v in violations)
    return None


@dataclass(frozen=True)
class Call:
    """Run ``program`` then evaluate ``f(<input>)``; ``input`` is canonical argument text."""

    program: str
    input: str


@dataclass(frozen=True)
class CallOutcome:
    """A call's canonical output text when every run went well, else the first reason it did not."""

    output: str | None
    reason: str
    results: tuple[ExecResult, ...]

    @property
    def ok(self) -> bool:
        return self.output is not None


def run_calls(
    calls: Sequence[Call], runner: SnippetRunner, config: ValidationConfig, slots: Sequence[int] = (0,)
) -> list[CallOutcome]:
    """Run every call once per slot in a single ``run_batch`` and judge the results."""
    snippets = [
        Snippet(code=c.program, call=f"{FUNCTION_NAME}({c.input})", timeout_s=config.timeout_s, seed_slot=slot)
        for c in calls
        for slot in slots
    ]
    results = list(runner.run_batch(snippets)) if snippets else []
    if len(results) != len(snippets):
        raise ExecutorContractError(f"the executor returned {len(results)} results for {len(snippets)} snippets")
    width = len(slots)
    return [_judge(tuple(results[i * width : (i + 1) * width]), config) for i in range(len(calls))]


def _judge(results: tuple[ExecResult, ...], config: ValidationConfig) -> CallOutcome:
    values: list[Any] = []
    for result in results:
        value, reason = _read(result, config)
        if reason:
            return CallOutcome(None, reason, results)
        values.append(value)
    if any(not values_equal(values[0], v) for v in values[1:]):
        reason = "not deterministic: runs with different hash seeds returned different values"
        return CallOutcome(None, reason, results)
    return CallOutcome(canonical_literal(results[0].value_repr or ""), "", results)


def _read(result: ExecResult, config: ValidationConfig) -> tuple[Any, str]:
    if result.timed_out:
        return None, "timed out"
    if result.killed_by_limit:
        return None, f"killed by the {result.killed_by_limit} limit"
    if not result.ok:
        detail = f": {result.error_message}" if result.error_message else ""
        return None, f"raised {result.error_type or 'an error'}{detail}"
    text = result.value_repr
    if text is None:
        return None, "returned no value"
    if len(text) > config.max_output_repr:
        return None, f"the output's repr is {len(text)} characters long (limit {config.max_output_repr})"
    try:
        canonical_literal(text)
        return parse_literal(text), ""
    except LiteralError as exc:
        return None, f"the output is not a round-trippable literal ({exc})"
