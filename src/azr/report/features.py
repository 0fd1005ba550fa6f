"""A program's shape as a bag of tokens: what it calls, which constructs and operators it uses.

Names of variables are left out on purpose: two programs that sort a list and take its
head are one family whatever the model called the list. The bag is what the family map
embeds, and its most telling tokens name each family.
"""

from __future__ import annotations

import ast

_OPERATOR_NODES = (ast.operator, ast.boolop, ast.cmpop, ast.unaryop)
_SKIPPED = (ast.Load, ast.Store, ast.Del, ast.Module, ast.Expr, ast.Name, ast.arguments, ast.arg, ast.keyword)


def program_tokens(program: str) -> list[str]:
    """Tokens describing ``program``; an unparsable program is one ``unparsable`` token."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return ["unparsable"]
    tokens: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, _SKIPPED):
            continue
        if isinstance(node, _OPERATOR_NODES):
            tokens.append(f"op:{type(node).__name__}")
        elif isinstance(node, ast.Call):
            tokens.append(f"call:{_callee(node.func)}")
        elif isinstance(node, ast.Constant):
            tokens.append(f"const:{type(node.value).__name__}")
        elif isinstance(node, ast.FunctionDef):
            tokens.append("def" if node.name == "f" else "def:helper")
        else:
            tokens.append(type(node).__name__)
    tokens.append(f"lines:{_bucket(program.count(chr(10)) + 1)}")
    return tokens


def _callee(func: ast.expr) -> str:
    """``sorted`` for ``sorted(x)``, ``.append`` for ``x.append(1)``; other callees are anonymous."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return f".{func.attr}"
    return "expr"


def _bucket(lines: int) -> str:
    for limit in (2, 4, 8, 16):
        if lines <= limit:
            return f"<={limit}"
    return ">16"
