"""Python literal text: the only form in which inputs, outputs and answers cross the sandbox.

Values are rebuilt on the host with :func:`ast.literal_eval`, never with ``eval``, so
reading an answer or an executor's result runs no code. A canonical text form makes equal
values print identically in every process (set order otherwise follows the hash seed),
which keeps task keys stable and lets the determinism check compare values, not strings.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from azr.errors import AzrError


class LiteralError(AzrError):
    """Text that should be a Python literal (or a literal argument list) is not one."""


def parse_literal(text: str) -> Any:
    """The value of one Python literal; raises :class:`LiteralError` with the reason."""
    source = text.strip()
    if not source:
        raise LiteralError("empty text is not a Python literal")
    try:
        return ast.literal_eval(source)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise LiteralError(f"not a Python literal: {_short(source)} ({type(exc).__name__})") from exc


def format_literal(value: Any) -> str:
    """Canonical literal text: ``repr`` except that set elements are sorted by their text."""
    if isinstance(value, list):
        return "[" + ", ".join(format_literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(format_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{format_literal(k)}: {format_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, set):
        if not value:
            return "set()"
        return "{" + ", ".join(sorted(format_literal(v) for v in value)) + "}"
    return repr(value)


def values_equal(a: Any, b: Any) -> bool:
    """Equality that also requires equal types, at every depth: ``1``, ``1.0`` and ``True`` differ
    as values, as set elements and as dict keys, so ``{1}`` is not ``{True}``.

    Sets and dicts stay order-free and cost linear time: both sides become the hashable
    form of :func:`_strict_key`, whose frozensets compare without pairing elements up.
    NaN equals NaN here (unlike ``==``): this is a comparison of literal data, and the
    determinism check relies on a value always equalling itself. ``0.0`` and ``-0.0`` stay
    equal, as in Python.
    """
    return _strict_key(a) == _strict_key(b)


_NAN = "nan"


def _strict_key(value: Any) -> Any:
    """``value`` rebuilt as hashable data tagged with the exact type of every part."""
    kind = type(value)
    if kind is list or kind is tuple:
        return kind, tuple(_strict_key(v) for v in value)
    if kind is set or kind is frozenset:
        return kind, frozenset(_strict_key(v) for v in value)
    if kind is dict:
        return kind, frozenset((_strict_key(k), _strict_key(v)) for k, v in value.items())
    if kind is float and value != value:
        return kind, _NAN
    if kind is complex:
        return kind, _strict_key(value.real), _strict_key(value.imag)
    return kind, value


def same_literal(a: str, b: str) -> bool:
    """Whether two pieces of literal text hold equal values (type-strict)."""
    return values_equal(parse_literal(a), parse_literal(b))


def canonical_literal(text: str) -> str:
    """Re-print a literal canonically, refusing text that does not survive the round trip."""
    value = parse_literal(text)
    canonical = format_literal(value)
    try:
        again = parse_literal(canonical)
    except LiteralError as exc:
        raise LiteralError(f"value {_short(canonical)} does not round-trip through its literal text") from exc
    if not values_equal(value, again):
        raise LiteralError(f"value {_short(canonical)} does not round-trip through its literal text")
    return canonical


@dataclass(frozen=True)
class CallArguments:
    """The literal arguments of one call ``f(...)``."""

    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...] = ()

    def text(self) -> str:
        """Canonical argument text, as written between the parentheses of ``f(...)``."""
        parts = [format_literal(v) for v in self.args]
        parts += [f"{name}={format_literal(v)}" for name, v in self.kwargs]
        return ", ".join(parts)

    def equals(self, other: CallArguments) -> bool:
        return (
            len(self.args) == len(other.args)
            and all(values_equal(a, b) for a, b in zip(self.args, other.args))
            and [n for n, _ in self.kwargs] == [n for n, _ in other.kwargs]
            and all(values_equal(a, b) for (_, a), (_, b) in zip(self.kwargs, other.kwargs))
        )


def parse_arguments(text: str, function: str = "f") -> CallArguments:
    """Parse argument text such as ``[1, 2], 'a'``; a full call ``f([1, 2], 'a')`` is accepted too.

    Every argument must be a literal: argument text is pasted into ``f(...)`` inside the
    sandbox, and requiring literals keeps it from smuggling in code of its own.
    """
    source = text.strip()
    call = _parse_call(source, function) or _parse_call(f"{function}({source})", function)
    if call is None:
        raise LiteralError(f"not a literal argument list for {function}(...): {_short(source)}")
    arguments = _arguments_of(call)
    if not arguments.args and not arguments.kwargs:
        raise LiteralError("the argument list is empty")
    again = _parse_call(f"{function}({arguments.text()})", function)
    if again is None or not arguments.equals(_arguments_of(again)):
        raise LiteralError(f"arguments {_short(arguments.text())} do not round-trip through their literal text")
    return arguments


def _parse_call(source: str, function: str) -> ast.Call | None:
    try:
        node = ast.parse(source, mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == function:
        return node
    return None


def _arguments_of(call: ast.Call) -> CallArguments:
    try:
        if any(isinstance(node, ast.Starred) for node in call.args) or any(kw.arg is None for kw in call.keywords):
            raise ValueError("unpacking")
        args = tuple(ast.literal_eval(node) for node in call.args)
        kwargs = tuple((kw.arg or "", ast.literal_eval(kw.value)) for kw in call.keywords)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise LiteralError(f"an argument is not a Python literal: {_short(ast.unparse(call))}") from exc
    return CallArguments(args, kwargs)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
