"""A static safety policy, checked on the program's AST before anything runs.

This is a filter, not the sandbox: it turns away programs that reach for the
file system, processes, the network, randomness or the clock, or that climb the object
graph to escape (``().__class__.__subclasses__()``), so such tasks never enter the
curriculum. Whatever slips past (e.g. attribute names built at run time) still meets the
executor's isolation. It looks at every name, attribute and import in the tree, not only
at import lines.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from pydantic import Field

from azr.config import StrictModel

DEFAULT_DENIED_MODULES = [
    "os", "sys", "subprocess", "socket", "shutil", "ctypes", "importlib", "multiprocessing",
    "threading", "_thread", "signal", "random", "secrets", "uuid", "time", "datetime",
    "builtins", "io", "pathlib", "tempfile", "glob", "fnmatch", "pickle", "marshal", "shelve",
    "dbm", "sqlite3", "gc", "inspect", "code", "codeop", "runpy", "pkgutil", "zipimport",
    "site", "sysconfig", "platform", "pty", "tty", "fcntl", "resource", "mmap", "select",
    "selectors", "asyncio", "concurrent", "urllib", "http", "ftplib", "smtplib", "ssl",
    "webbrowser", "posix", "nt", "atexit", "faulthandler", "tracemalloc", "weakref",
    "cffi", "requests", "numpy.random",
]
DEFAULT_DENIED_BUILTINS = [
    "open", "exec", "eval", "compile", "__import__", "input", "globals", "locals", "vars",
    "breakpoint", "help", "exit", "quit", "getattr", "setattr", "delattr", "memoryview",
    "__builtins__", "__loader__", "__spec__",
]
DEFAULT_DENIED_ATTRIBUTES = [
    "__subclasses__", "__globals__", "__builtins__", "__code__", "__class__", "__bases__",
    "__base__", "__mro__", "__dict__", "__closure__", "__func__", "__self__", "__module__",
    "__getattribute__", "__reduce__", "__reduce_ex__", "__loader__", "__spec__", "__import__",
    "__init_subclass__", "__subclasshook__", "__traceback__", "__defaults__", "__kwdefaults__",
    "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "gi_frame", "gi_code",
    "cr_frame", "cr_code", "ag_frame", "tb_frame", "tb_next", "co_code",
]


class SafetyPolicyConfig(StrictModel):
    """The deny-lists. Replace a list in YAML or with ``tasks.safety.denied_modules=[...]``."""

    denied_modules: list[str] = Field(default_factory=lambda: list(DEFAULT_DENIED_MODULES))
    denied_builtins: list[str] = Field(default_factory=lambda: list(DEFAULT_DENIED_BUILTINS))
    denied_attributes: list[str] = Field(default_factory=lambda: list(DEFAULT_DENIED_ATTRIBUTES))
    allow_relative_imports: bool = False


@dataclass(frozen=True)
class Violation:
    """One reason a program is refused: ``kind`` is syntax, module, builtin, attribute or import."""

    kind: str
    name: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class SafetyPolicy:
    """Checks program text against a :class:`SafetyPolicyConfig`."""

    def __init__(self, config: SafetyPolicyConfig | None = None) -> None:
        self.config = config or SafetyPolicyConfig()
        self._modules = frozenset(self.config.denied_modules)
        self._builtins = frozenset(self.config.denied_builtins)
        self._attributes = frozenset(self.config.denied_attributes)

    def check(self, source: str) -> list[Violation]:
        """Every violation in ``source``, in source order; an empty list means it passes."""
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            line = getattr(exc, "lineno", None) or 0
            return [Violation("syntax", "", line, f"the program does not parse: {getattr(exc, 'msg', exc)}")]
        violations: list[Violation] = []
        for node in ast.walk(tree):
            violations.extend(self._check_node(node))
        return sorted(violations, key=lambda v: v.line)

    def _check_node(self, node: ast.AST) -> list[Violation]:
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            return [v for alias in node.names if (v := self._module(alias.name, line)) is not None]
        if isinstance(node, ast.ImportFrom):
            return self._import_from(node, line)
        if isinstance(node, ast.Name) and node.id in self._builtins:
            reason = f"uses the built-in {node.id!r}, which the safety policy denies"
            return [Violation("builtin", node.id, line, reason)]
        if isinstance(node, ast.Attribute) and node.attr in self._attributes:
            reason = f"accesses the attribute {node.attr!r}, which is used for sandbox escapes"
            return [Violation("attribute", node.attr, line, reason)]
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in self._attributes:
            reason = f"names the attribute {node.value!r} in a string, which is used for sandbox escapes"
            return [Violation("attribute", node.value, line, reason)]
        return []

    def _import_from(self, node: ast.ImportFrom, line: int) -> list[Violation]:
        if node.level and not self.config.allow_relative_imports:
            name = "." * node.level + (node.module or "")
            return [Violation("import", name, line, "relative imports are not allowed")]
        if node.module is None:
            return []
        found = self._module(node.module, line)
        if found is not None:
            return [found]
        dotted = (f"{node.module}.{alias.name}" for alias in node.names)
        return [v for name in dotted if (v := self._module(name, line)) is not None]

    def _module(self, dotted: str, line: int) -> Violation | None:
        parts = dotted.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in self._modules:
                reason = f"imports {dotted!r}; the module {prefix!r} is denied by the safety policy"
                return Violation("module", dotted, line, reason)
        return None
