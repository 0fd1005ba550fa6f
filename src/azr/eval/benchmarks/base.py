"""The one interface every benchmark implements: load records, build a prompt, judge answers.

A benchmark is a small class registered with :func:`register`; the runner, the cache, the
CLI and the reports only ever talk to this interface, so adding a benchmark is adding one
class in one file of this package (modules here are imported automatically).
"""

from __future__ import annotations

import ast
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Sequence

from azr.eval.data import DataSource, load_rows
from azr.executor.types import ExecResult, SnippetRunner
from azr.tasks.literals import LiteralError

_REGISTRY: dict[str, type["Benchmark"]] = {}


@dataclass(frozen=True)
class Record:
    """One benchmark item: a stable id and the fields its prompt and judge need."""

    id: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Judgement:
    """The verdict on one completion; ``answer`` is what was read out of it, kept for inspection."""

    correct: bool
    answer: str | None
    reason: str = ""


class Benchmark(ABC):
    """One evaluation set.

    ``family`` groups benchmarks on the command line (``--bench code``); ``max_new_tokens``
    and ``stop`` are what a completion for this set needs, so that a greedy run does not
    waste tokens past the answer. ``chat_stop`` replaces ``stop`` when the engine wraps
    prompts in a chat template: a chat reply ends by itself and may open with text (a code
    fence) that a completion-style stop would cut.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    family: ClassVar[str]
    source: ClassVar[DataSource]
    max_new_tokens: ClassVar[int] = 256
    stop: ClassVar[tuple[str, ...]] = ()
    chat_stop: ClassVar[tuple[str, ...] | None] = None

    def stops(self, chat: bool) -> tuple[str, ...]:
        """The stop strings for completion-style (``chat=False``) or chat-template prompts."""
        return self.chat_stop if chat and self.chat_stop is not None else self.stop

    def load(self, data_dir: Path | None) -> list[Record]:
        """All records, in the set's own order (``--limit N`` takes the first N)."""
        return self.records(load_rows(self.name, self.source, data_dir))

    @abstractmethod
    def records(self, rows: Sequence[dict[str, Any]]) -> list[Record]:
        """Turn the raw rows of the data file into records."""

    @abstractmethod
    def prompt(self, record: Record) -> str:
        """The text the model continues."""

    @abstractmethod
    def judge(self, records: Sequence[Record], completions: Sequence[str], runner: SnippetRunner) -> list[Judgement]:
        """One judgement per (record, completion) pair; code runs only through ``runner``."""


def failure_reason(result: ExecResult) -> str:
    """Why a snippet did not finish, in a few words for the per-item log."""
    if result.timed_out:
        return "timed out"
    if result.killed_by_limit:
        return f"stopped by the sandbox's {result.killed_by_limit} limit"
    return f"{result.error_type}: {result.error_message}"[:200]


_NON_FINITE = {"inf": math.inf, "nan": math.nan, "infj": complex(0, math.inf), "nanj": complex(0, math.nan)}


class _NonFiniteNames(ast.NodeTransformer):
    """``repr`` writes non-finite floats as the bare names ``inf`` and ``nan``, which literal_eval refuses."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id not in _NON_FINITE:
            return node
        return ast.copy_location(ast.Constant(_NON_FINITE[node.id]), node)


def read_literal(text: str) -> Any:
    """The plain value of literal text as ``repr`` writes it, ``inf`` and ``nan`` included.

    Every value a verdict depends on passes through here on the host: :func:`ast.literal_eval`
    runs no code and builds only plain types, so an object a program defined (one whose
    ``__eq__`` always answers True, an ``int`` subclass) never takes part in a comparison;
    at most its text does, and text that is not a literal raises :class:`LiteralError`.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
        return ast.literal_eval(_NonFiniteNames().visit(tree))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise LiteralError(f"not a plain Python literal: {shown} ({type(exc).__name__})") from exc


def register(cls: type[Benchmark]) -> type[Benchmark]:
    """Class decorator that makes a benchmark known by its ``name``."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"two benchmarks are named {cls.name!r}: {_REGISTRY[cls.name].__name__} and {cls.__name__}")
    _REGISTRY[cls.name] = cls
    return cls


def registered() -> dict[str, type[Benchmark]]:
    """Name -> class of every registered benchmark (import :mod:`azr.eval.benchmarks` first)."""
    return dict(_REGISTRY)
