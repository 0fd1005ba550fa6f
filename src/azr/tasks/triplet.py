"""The unit of the curriculum: a program with input/output pairs, stored as literal text.

A deduction or abduction task holds one pair; an induction task holds N pairs of one
program, of which the solver sees the first half (see :func:`visible_pairs`).
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class IOPair:
    """One call and its result. ``input`` is the argument text of ``f(<input>)``, e.g. ``"[1, 2], 'a'"``."""

    input: str
    output: str


@dataclass(frozen=True)
class Task:
    """What a buffer stores and a solver is asked."""

    task_type: str
    program: str
    pairs: tuple[IOPair, ...]
    message: str = ""

    def key(self) -> str:
        """Stable identity for de-duplication: the same task written twice gets the same key.

        The program is normalised through the AST so comments and formatting do not
        make a copy look new; inputs and outputs are canonical literal text already.
        """
        content = [
            self.task_type,
            normalise_program(self.program),
            [[p.input, p.output] for p in self.pairs],
            " ".join(self.message.split()),
        ]
        return hashlib.sha256(json.dumps(content, ensure_ascii=True).encode()).hexdigest()


def normalise_program(program: str) -> str:
    """Program text with comments and layout removed; unparsable text is only stripped."""
    try:
        return ast.unparse(ast.parse(program))
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return program.strip()


def visible_pairs(task: Task) -> tuple[IOPair, ...]:
    """The pairs an induction solver is shown: the first half, rounded down."""
    return task.pairs[: len(task.pairs) // 2]


def hidden_pairs(task: Task) -> tuple[IOPair, ...]:
    """The pairs an induction answer must reproduce: everything not shown."""
    return task.pairs[len(task.pairs) // 2 :]


SEED_TASK = Task(
    task_type="deduction",
    program="def f(a):\n    return a",
    pairs=(IOPair(input="'Hello world'", output="'Hello world'"),),
)
"""The identity triplet the loop starts from; ``dataclasses.replace`` it to seed other types."""
