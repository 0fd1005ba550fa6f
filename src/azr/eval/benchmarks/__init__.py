"""The benchmarks: each module here defines and registers one or a few small classes.

Every module of this package is imported on first use, so a new benchmark needs a new
module (or class) and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil

from azr.eval.benchmarks.base import Benchmark, Judgement, Record, register, registered
from azr.eval.errors import EvalError


def _import_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base":
            importlib.import_module(f"{__name__}.{module.name}")


def all_benchmarks() -> dict[str, type[Benchmark]]:
    """Every benchmark class by name."""
    _import_all()
    return registered()


def select(spec: str | list[str]) -> list[Benchmark]:
    """Benchmarks from names, families (``cruxeval``, ``code``, ``math``) or ``all``, in the order given."""
    names = spec.split(",") if isinstance(spec, str) else [part for item in spec for part in item.split(",")]
    known = all_benchmarks()
    chosen: list[str] = []
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        if name == "all":
            matches = list(known)
        elif name in known:
            matches = [name]
        else:
            matches = [key for key, cls in known.items() if cls.family == name]
        if not matches:
            families = sorted({cls.family for cls in known.values()})
            raise EvalError(
                f"unknown benchmark {raw.strip()!r}; known: {', '.join(known)}; "
                f"families: {', '.join(families)}; or 'all'"
            )
        chosen.extend(match for match in matches if match not in chosen)
    if not chosen:
        raise EvalError("no benchmark named; pass e.g. --bench cruxeval-o,gsm8k")
    return [known[name]() for name in chosen]


__all__ = ["Benchmark", "Judgement", "Record", "all_benchmarks", "register", "select"]
