"""A static safety policy, checked on the program's AST before anything runs.

This is a filter, not the sandbox: it turns away programs that reach for the
file system, processes, the network, randomness or the clock, or that climb the object
graph to escape (``().__class__.__subclasses__()``), so such tasks never enter the
curriculum. Whatever slips past (e.g. attribute names built at run time) still meets the
executor's isolation. It looks at every name, attribute and import in the tree, not only
at import lines.

A denied built-in is refused where a read can reach the built-in, not wherever its spelling
appears: ``def f(input)`` or ``vars = [1, 2]`` bind names of the program's own, and reads
that resolve to such a binding by Python's scoping rules (:class:`_Bindings`) pass, while
``vars(x)`` with no binding in reach is refused. An import that binds such a name
(``from m import x as open``) is refused outright.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

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
# ``__class__`` is absent on purpose: it gives what the allowed ``type(x)`` gives, and the
# climb that follows it (``__bases__``, ``__mro__``, ``__subclasses__``) is refused.
DEFAULT_DENIED_ATTRIBUTES = [
    "__subclasses__", "__globals__", "__builtins__", "__code__", "__bases__",
    "__base__", "__mro__", "__dict__", "__closure__", "__func__", "__self__",
    "__getattribute__", "__reduce__", "__reduce_ex__", "__loader__", "__spec__", "__import__",
    "__traceback__", "__defaults__", "__kwdefaults__",
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
        try:
            violations = self._violations(tree)
        except RecursionError:
            return [Violation("syntax", "", 0, "the program nests too deeply for the safety policy to check")]
        return sorted(violations, key=lambda v: v.line)

    def _violations(self, tree: ast.Module) -> list[Violation]:
        violations: list[Violation] = []
        bindings: _Bindings | None = None
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in self._builtins:
                bindings = bindings or _Bindings(tree)
                if bindings.reaches_builtin(node):
                    reason = f"uses the built-in {node.id!r}, which the safety policy denies"
                    violations.append(Violation("builtin", node.id, node.lineno, reason))
                continue
            violations.extend(self._check_node(node))
        return violations

    def _check_node(self, node: ast.AST) -> list[Violation]:
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            found = [v for alias in node.names if (v := self._module(alias.name, line)) is not None]
            return found + self._import_shadows(node, line)
        if isinstance(node, ast.ImportFrom):
            return self._import_from(node, line) + self._import_shadows(node, line)
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

    def _import_shadows(self, node: ast.Import | ast.ImportFrom, line: int) -> list[Violation]:
        shadowed = [name for name in _imported_names(node) if name in self._builtins]
        reason = "imports under the name {!r}, which hides a built-in the safety policy denies; choose another name"
        return [Violation("builtin", name, line, reason.format(name)) for name in shadowed]

    def _module(self, dotted: str, line: int) -> Violation | None:
        parts = dotted.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in self._modules:
                reason = f"imports {dotted!r}; the module {prefix!r} is denied by the safety policy"
                return Violation("module", dotted, line, reason)
        return None


def _imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The names an import binds; ``from m import *`` binds none that can be known."""
    names = [alias.asname or alias.name.split(".")[0] for alias in node.names]
    return [name for name in names if name != "*"]


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(eq=False)
class _Scope:
    """One namespace: the module, a class body, or a function-like body (def, lambda, comprehension)."""

    kind: str
    parent: _Scope | None
    comprehension: bool = False
    bound: set[str] = field(default_factory=set)
    declared_global: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    loads: set[int] = field(default_factory=set)


class _Bindings(ast.NodeVisitor):
    """Where each read of a name resolves: to a binding the program made, or possibly a built-in.

    Function scopes follow the compiler: a name bound anywhere in a function is local there,
    so a read of it never falls back to a built-in (it fails as unbound instead); a free name
    is looked up in enclosing functions (class bodies are skipped), then in the module.
    Module and class bodies look names up when the read runs, so there a read counts as the
    program's own only when a binding certainly ran before it (:class:`_Flow`). A function's
    read of a module global counts as the program's own only when the global was certainly
    bound before the module statement that created the function ran, and nothing deletes it.
    """

    def __init__(self, tree: ast.Module) -> None:
        self.module = _Scope("module", None)
        self._scope = self.module
        self.owner: dict[int, _Scope] = {}  # id of a Name (or other binding node) -> its scope
        self.created: dict[int, _Scope] = {}  # id of a def, lambda, class or comprehension -> its scope
        self.certain: set[int] = set()  # ids of module or class reads that follow a certain binding
        self.entry: dict[_Scope, frozenset[str]] = {}  # top-level scope -> globals certainly bound then
        self._classes: list[tuple[_Scope, ast.ClassDef]] = []
        self.visit(tree)
        _Flow(self, self.module).run(tree.body, frozenset())
        for scope, node in self._classes:
            _Flow(self, scope).run(node.body, frozenset())
        scopes = [self.module, *self.created.values()]
        self._deleted_globals = self.module.deleted.union(*(s.deleted & s.declared_global for s in scopes))

    def reaches_builtin(self, name: ast.Name) -> bool:
        """Whether this read of ``name`` may find the built-in rather than a binding of the program."""
        scope = self.owner.get(id(name))
        if scope is None or id(name) not in scope.loads:
            return False
        if scope.kind == "module":
            return id(name) not in self.certain
        if name.id in scope.declared_global:
            return not self._global_bound(name.id, scope)
        if scope.kind == "function":
            return name.id not in scope.bound and self._free_reaches_builtin(name.id, scope)
        if id(name) in self.certain:
            return False
        if name.id in scope.bound:
            return not self._global_bound(name.id, scope)
        return self._free_reaches_builtin(name.id, scope)

    def _free_reaches_builtin(self, name: str, origin: _Scope) -> bool:
        scope = origin.parent
        while scope is not None and scope.kind != "module":
            if scope.kind == "function":
                if name in scope.declared_global:
                    break
                if name in scope.bound:
                    return False
            scope = scope.parent
        return not self._global_bound(name, origin)

    def _global_bound(self, name: str, origin: _Scope) -> bool:
        while origin.parent is not None and origin.parent is not self.module:
            origin = origin.parent
        return name not in self._deleted_globals and name in self.entry.get(origin, frozenset())

    def _push(self, node: ast.AST, kind: str) -> _Scope:
        scope = _Scope(kind, self._scope, comprehension=isinstance(node, _COMPREHENSIONS))
        self.created[id(node)] = scope
        self._scope = scope
        return scope

    def _pop(self, scope: _Scope) -> None:
        assert scope.parent is not None
        self._scope = scope.parent

    def _outside(self, args: ast.arguments) -> None:
        """Defaults and annotations are evaluated in the scope around the function."""
        for node in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            self.visit(node)
        for arg in _parameters(args):
            if arg.annotation is not None:
                self.visit(arg.annotation)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._scope.bound.add(node.name)
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._outside(node.args)
        if node.returns is not None:
            self.visit(node.returns)
        scope = self._push(node, "function")
        scope.bound.update(arg.arg for arg in _parameters(node.args))
        for stmt in node.body:
            self.visit(stmt)
        self._pop(scope)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._outside(node.args)
        scope = self._push(node, "function")
        scope.bound.update(arg.arg for arg in _parameters(node.args))
        self.visit(node.body)
        self._pop(scope)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scope.bound.add(node.name)
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        scope = self._push(node, "class")
        self._classes.append((scope, node))
        for stmt in node.body:
            self.visit(stmt)
        self._pop(scope)

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp,
                       results: list[ast.expr]) -> None:
        """The first iterable is evaluated outside; targets, conditions and results inside."""
        self.visit(node.generators[0].iter)
        scope = self._push(node, "function")
        for i, generator in enumerate(node.generators):
            self.visit(generator.target)
            for expr in ([generator.iter] if i else []) + generator.ifs:
                self.visit(expr)
        for expr in results:
            self.visit(expr)
        self._pop(scope)

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp  # type: ignore[assignment]

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    def visit_Name(self, node: ast.Name) -> None:
        self.owner[id(node)] = self._scope
        if isinstance(node.ctx, ast.Load):
            self._scope.loads.add(id(node))
            return
        self._scope.bound.add(node.id)
        if isinstance(node.ctx, ast.Del):
            self._scope.deleted.add(node.id)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        """``(x := v)`` binds ``x`` in the nearest scope that is not a comprehension."""
        self.visit(node.value)
        target = self._scope
        while target.comprehension and target.parent is not None:
            target = target.parent
        target.bound.add(node.target.id)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        """``x += v`` reads ``x`` before it binds it."""
        self.generic_visit(node)
        if isinstance(node.target, ast.Name):
            self._scope.loads.add(id(node.target))

    def visit_Global(self, node: ast.Global) -> None:
        self._scope.declared_global.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self._scope.bound.update(node.names)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        self._scope.bound.update(_imported_names(node))

    visit_ImportFrom = visit_Import

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        """``except E as e`` binds ``e`` and deletes it when the handler ends."""
        self.owner[id(node)] = self._scope
        if node.name:
            self._scope.bound.add(node.name)
            self._scope.deleted.add(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs | ast.MatchStar) -> None:
        self.owner[id(node)] = self._scope
        if node.name:
            self._scope.bound.add(node.name)
        self.generic_visit(node)

    visit_MatchStar = visit_MatchAs

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self.owner[id(node)] = self._scope
        if node.rest:
            self._scope.bound.add(node.rest)
        self.generic_visit(node)


def _parameters(args: ast.arguments) -> list[ast.arg]:
    extra = [a for a in (args.vararg, args.kwarg) if a is not None]
    return [*args.posonlyargs, *args.args, *args.kwonlyargs, *extra]


class _Flow:
    """Which reads in a module or class body come after a binding that certainly ran.

    It walks the body in order, carrying the names bound on every path so far. A branch
    keeps only what both sides bind; a loop body starts from what held before the loop,
    less anything the loop deletes, and the loop adds nothing after it (it may run zero
    times); ``try`` handlers, ``with`` bodies that may be cut short and ``match`` cases add
    nothing after them either. Walrus targets never count as certain. Where it is unsure
    it says "not certain", so the read is judged as reaching the built-in.
    """

    def __init__(self, bindings: _Bindings, scope: _Scope) -> None:
        self.bindings = bindings
        self.scope = scope

    def run(self, body: list[ast.stmt], bound: frozenset[str]) -> frozenset[str]:
        for stmt in body:
            bound = self._statement(stmt, bound)
        return bound

    def _statement(self, stmt: ast.stmt, bound: frozenset[str]) -> frozenset[str]:
        if isinstance(stmt, ast.If):
            self._read(stmt.test, bound)
            return self.run(stmt.body, bound) & self.run(stmt.orelse, bound)
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            return self._loop(stmt, bound)
        if isinstance(stmt, (ast.Try, ast.TryStar)):
            return self._try(stmt, bound)
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            inner = bound
            for item in stmt.items:
                self._read(item.context_expr, inner)
                if item.optional_vars is not None:
                    self._read(item.optional_vars, inner)
                    inner |= self._stored(item.optional_vars)
            self.run(stmt.body, inner)
            return inner - self._deleted(stmt)
        if isinstance(stmt, ast.Match):
            self._read(stmt.subject, bound)
            for case in stmt.cases:
                self._read(case.pattern, bound)
                captured = bound | self._stored(case.pattern)
                if case.guard is not None:
                    self._read(case.guard, captured)
                self.run(case.body, captured)
            return bound - self._deleted(stmt)
        self._read(stmt, bound)
        if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
            return bound
        gained = self._stored(stmt)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            gained |= {stmt.name}
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            gained |= set(_imported_names(stmt))
        return (bound | gained) - self._deleted(stmt)

    def _loop(self, stmt: ast.For | ast.AsyncFor | ast.While, bound: frozenset[str]) -> frozenset[str]:
        start = bound - self._deleted(stmt)
        if isinstance(stmt, ast.While):
            self._read(stmt.test, start)
            inner = start
        else:
            self._read(stmt.iter, bound)
            self._read(stmt.target, start)
            inner = start | self._stored(stmt.target)
        self.run(stmt.body, inner)
        self.run(stmt.orelse, start)
        return start

    def _try(self, stmt: ast.Try | ast.TryStar, bound: frozenset[str]) -> frozenset[str]:
        weakest = bound - self._deleted(stmt)
        normal = self.run(stmt.orelse, self.run(stmt.body, bound))
        for handler in stmt.handlers:
            if handler.type is not None:
                self._read(handler.type, weakest)
            caught = weakest | ({handler.name} if handler.name else set())
            normal &= self.run(handler.body, caught) - {handler.name}
        if not stmt.finalbody:
            return normal
        deleted_finally = frozenset().union(*(self._deleted(s) for s in stmt.finalbody))
        return self.run(stmt.finalbody, weakest) | (normal - deleted_finally)

    def _own(self, node: ast.AST) -> list[ast.AST]:
        """The nodes under ``node`` that belong to this scope (not to a function or class inside it)."""
        owner = self.bindings.owner
        return [n for n in ast.walk(node) if owner.get(id(n)) is self.scope]

    def _read(self, node: ast.AST, bound: frozenset[str]) -> None:
        """Mark the reads under ``node`` that ``bound`` covers; note what a new scope here can see."""
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and self.bindings.owner.get(id(n)) is self.scope and n.id in bound:
                self.bindings.certain.add(id(n))
            created = self.bindings.created.get(id(n))
            if created is not None and created.parent is self.bindings.module and self.scope is self.bindings.module:
                self.bindings.entry[created] = bound

    def _stored(self, node: ast.AST) -> frozenset[str]:
        """Names this scope certainly binds under ``node``; walrus targets have no owner, so never count."""
        names: set[str] = set()
        for n in self._own(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                names.add(n.id)
            elif isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name:
                names.add(n.name)
            elif isinstance(n, ast.MatchMapping) and n.rest:
                names.add(n.rest)
        return frozenset(names)

    def _deleted(self, node: ast.AST) -> frozenset[str]:
        names: set[str] = set()
        for n in self._own(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Del):
                names.add(n.id)
            elif isinstance(n, ast.ExceptHandler) and n.name:
                names.add(n.name)
        return frozenset(names)
