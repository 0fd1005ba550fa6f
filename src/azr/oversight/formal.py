"""The formal watchdog: static proofs of simple properties of a proposed program.

A proposal's program is run by the executor, which *observes* one execution; this module
*proves*, from the program's ``ast`` alone, three properties for every execution on the
task's inputs: it terminates (with an upper bound on loop iterations), it does no I/O,
and it is deterministic. Each rule is conservative: "proven" only where the rule
guarantees it, "violated" only where a violation is certain, "unknown" everywhere else,
with a reason a reader can check against the program.
"""

from __future__ import annotations

import ast
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator, Literal, Sequence

from azr.oversight.config import FormalConfig
from azr.oversight.decision import Finding
from azr.oversight.events import Event

Verdict = Literal["proven", "violated", "unknown"]

PURE_MODULES = frozenset({
    "math", "cmath", "itertools", "functools", "collections", "string", "heapq", "bisect", "operator", "re",
    "fractions", "decimal", "statistics", "copy", "typing", "dataclasses", "enum",
})
NONDETERMINISTIC_MODULES = frozenset({"random", "time", "datetime", "os", "uuid", "secrets"})
IO_BUILTINS = frozenset({
    "open", "print", "input", "exec", "eval", "compile", "__import__", "globals", "locals", "vars",
    "breakpoint", "help", "exit", "quit",
})
ANNOTATION_EVALUATORS = frozenset({"get_type_hints", "ForwardRef", "singledispatch", "singledispatchmethod"})
ATTRIBUTE_BUILTINS = frozenset({"getattr", "setattr", "delattr", "hasattr"})
EXCEPTIONS = frozenset({
    "Exception", "ArithmeticError", "AssertionError", "AttributeError", "IndexError", "KeyError", "LookupError",
    "NotImplementedError", "OverflowError", "RecursionError", "RuntimeError", "StopIteration", "TypeError",
    "ValueError", "ZeroDivisionError",
})
PURE_BUILTINS = frozenset({
    "len", "range", "sum", "min", "max", "sorted", "reversed", "enumerate", "zip", "map", "filter", "list",
    "tuple", "dict", "set", "frozenset", "str", "int", "float", "bool", "abs", "all", "any", "divmod", "pow",
    "round", "chr", "ord", "isinstance", "iter", "next", "repr", "hex", "bin", "oct", "True", "False", "None",
    "id", "hash", "format", "slice", "callable",
}) | EXCEPTIONS
# Calls that grow or shrink a container in place: where any appears, no mutable value keeps a size.
MUTATORS = frozenset({
    "append", "extend", "insert", "add", "update", "setdefault", "pop", "popitem", "remove", "discard", "clear",
    "sort", "reverse", "appendleft", "extendleft", "popleft", "rotate", "heappush", "heappop", "heapify",
    "heappushpop", "heapreplace", "insort", "insort_left", "insort_right", "iadd", "iconcat", "imul", "ior",
    "setitem", "delitem",
})
SIZE_PRESERVING = frozenset({"enumerate", "reversed", "sorted", "list", "tuple", "set", "frozenset", "iter", "dict"})
SIZE_METHODS = frozenset({"items", "keys", "values", "copy", "strip", "lstrip", "rstrip"})
INFINITE_ITERATORS = frozenset({"count", "cycle", "repeat"})
MUTABLE_TYPES = (list, dict, set, bytearray)


@dataclass(frozen=True)
class PropertyVerdict:
    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class FormalReport:
    """The three verdicts on one program; ``iteration_bound`` is set only when termination is proven."""

    termination: PropertyVerdict
    no_io: PropertyVerdict
    deterministic: PropertyVerdict
    iteration_bound: int | None = None

    def decided(self) -> int:
        """How many of the three properties the watchdog settled either way."""
        return sum(v.verdict != "unknown" for v in (self.termination, self.no_io, self.deterministic))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Unknown(Exception):
    """Raised inside the termination analysis: the rule cannot bound this part; the message says why."""


@dataclass(frozen=True)
class Abstract:
    """What the analysis knows of a value: an upper bound on its length, a range of its integer value."""

    size: int | None = None
    num: tuple[int, int] | None = None
    exact: bool = False
    mutable: bool = True

    @classmethod
    def of(cls, value: Any) -> Abstract:
        """A concrete input value: its length and integer value are known exactly."""
        num = (int(value), int(value)) if isinstance(value, int) else None
        size = len(value) if hasattr(value, "__len__") else None
        return cls(size=size, num=num, exact=True, mutable=isinstance(value, MUTABLE_TYPES))


UNKNOWN_VALUE = Abstract()


def analyse(program: str, inputs: Sequence[str] = (), max_iterations: int = 10_000_000) -> FormalReport:
    """Prove what the rules can about ``program`` run as ``f(*args)`` for each of ``inputs``."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, MemoryError, RecursionError):  # the parser's own limits
        unknown = PropertyVerdict("unknown", "does not parse")
        return FormalReport(unknown, unknown, unknown)
    try:
        no_io = check_no_io(tree)
        deterministic = check_deterministic(tree, no_io)
        termination, bound = check_termination(tree, parse_inputs(inputs), max_iterations)
    except RecursionError:  # a tree nested deeper than the walk can follow: a watchdog must not stop the loop
        unknown = PropertyVerdict("unknown", "nested too deeply to analyse")
        return FormalReport(unknown, unknown, unknown)
    return FormalReport(termination, no_io, deterministic, bound)


def parse_inputs(inputs: Sequence[str]) -> list[tuple[Any, ...] | None]:
    """Each input string as the argument tuple of one call; None where it is not a literal."""
    parsed: list[tuple[Any, ...] | None] = []
    for text in inputs:
        try:
            parsed.append(ast.literal_eval("(" + text + ",)"))
        except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
            parsed.append(None)
    return parsed


# --- no I/O -----------------------------------------------------------------------------

def check_no_io(tree: ast.Module) -> PropertyVerdict:
    """Violated on a certain escape hatch; proven when every name is local or a pure builtin."""
    for node in ast.walk(tree):
        why = _io_violation(node)
        if why:
            return PropertyVerdict("violated", f"{why} at line {node.lineno}")  # type: ignore[attr-defined]
    for node in ast.walk(tree):
        why = _indirect_access(node)
        if why:
            return PropertyVerdict("unknown", f"{why} at line {node.lineno}")  # type: ignore[attr-defined]
    bound = bound_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id not in bound and node.id not in PURE_BUILTINS:
                return PropertyVerdict("unknown", f"uses {node.id} at line {node.lineno}, which is neither defined "
                                                  "in the program nor a known pure builtin")
    return PropertyVerdict("proven", "imports only pure modules and names only local or pure builtin functions")


def _io_violation(node: ast.AST) -> str | None:
    """Why this one node certainly leaves pure computation, or None."""
    for module in _imported_modules(node):
        if module.split(".")[0] not in PURE_MODULES:
            return f"imports {module or 'a relative module'}"
    if isinstance(node, ast.Name):
        if node.id in IO_BUILTINS or node.id == "__builtins__":
            return f"{'calls' if isinstance(node.ctx, ast.Load) else 'binds'} {node.id}()"
    if isinstance(node, ast.Attribute) and _is_dunder(node.attr):
        return f"accesses the attribute {node.attr}"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ATTRIBUTE_BUILTINS:
        name = node.args[1] if len(node.args) > 1 else None
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)) or _is_dunder(name.value):
            return f"calls {node.func.id}() with a computed or dunder attribute name"
    return None


def _indirect_access(node: ast.AST) -> str | None:
    """What could reach an escape hatch through a string: a dunder name in a string (for
    ``operator.attrgetter`` or a format field) or annotations evaluated as code."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and "__" in node.value:
        return "a string names a dunder, which attrgetter or a format field can follow"
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        return "from __future__ import makes annotations strings that typing may evaluate"
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
    if name in ANNOTATION_EVALUATORS:
        return f"{name} evaluates annotations as code"
    return None


def _imported_modules(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module != "__future__":
        return ["" if node.level else (node.module or "")]
    return []


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def bound_names(tree: ast.AST) -> set[str]:
    """Every name the program binds anywhere (scopes merged: a superset is enough here)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


# --- determinism ------------------------------------------------------------------------

def check_deterministic(tree: ast.Module, no_io: PropertyVerdict) -> PropertyVerdict:
    """Violated on a source of randomness or identity; unknown on sets (hash order) or unproven purity."""
    local = bound_names(tree)
    for node in ast.walk(tree):
        for module in _imported_modules(node):
            if module.split(".")[0] in NONDETERMINISTIC_MODULES:
                return PropertyVerdict("violated", f"imports {module} at line {node.lineno}")  # type: ignore[attr-defined]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"id", "hash"} \
                and node.func.id not in local:
            return PropertyVerdict("violated", f"calls {node.func.id}() at line {node.lineno}: it differs between processes")
    for node in ast.walk(tree):
        if _builds_set(node):
            return PropertyVerdict("unknown", f"builds a set at line {node.lineno}: string hashing is "  # type: ignore[attr-defined]
                                              "randomised per process, so its iteration order can differ")
    if no_io.verdict != "proven":
        return PropertyVerdict("unknown", f"purity is not proven ({no_io.reason})")
    return PropertyVerdict("proven", "pure code without sets, randomness, clocks or object identity")


def _builds_set(node: ast.AST) -> bool:
    if isinstance(node, (ast.Set, ast.SetComp)):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"set", "frozenset"}:
        return True
    # d.keys() & e.keys() and friends return sets
    return isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr, ast.BitXor, ast.Sub)) and any(
        isinstance(side, ast.Call) and isinstance(side.func, ast.Attribute) and side.func.attr in {"keys", "items"}
        for side in (node.left, node.right)
    )


# --- termination ------------------------------------------------------------------------

def check_termination(
    tree: ast.Module, inputs: list[tuple[Any, ...] | None], max_iterations: int
) -> tuple[PropertyVerdict, int | None]:
    """Violated on a reachable ``while True`` with no way out; proven with a bound where every loop is bounded."""
    functions = _functions(tree)
    infinite = _endless_loop(tree, functions)
    if infinite is not None:
        return PropertyVerdict("violated", f"while loop at line {infinite.lineno} is always true and its body "
                                           "can neither break nor raise: once entered it never ends"), None
    try:
        bound = Bounds(tree, functions).program(inputs)
    except Unknown as exc:
        return PropertyVerdict("unknown", str(exc)), None
    if bound > max_iterations:
        return PropertyVerdict("unknown", f"the iteration bound {bound:,} exceeds max_iterations {max_iterations:,}"), None
    return PropertyVerdict("proven", f"every loop is bounded: at most {bound:,} iterations"), bound


def _functions(tree: ast.Module) -> dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]]:
    found: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.setdefault(node.name, []).append(node)
    return found


def _walk_scope(nodes: Sequence[ast.AST]) -> Iterator[ast.AST]:
    """Every node under ``nodes`` except inside nested function, lambda and class bodies."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                stack.append(child)


def _endless_loop(tree: ast.Module, functions: dict[str, list[Any]]) -> ast.While | None:
    """A ``while True`` with no exit in the module body or a function reachable from it or from ``f``."""
    seen: set[str] = set()
    scopes: list[Sequence[ast.AST]] = [tree.body]
    pending = ["f", *_called_names(tree.body)]
    while pending:
        name = pending.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        for fn in functions[name]:
            scopes.append(fn.body)
            pending.extend(_called_names(fn.body))
    for body in scopes:
        for node in _walk_scope(body):
            if isinstance(node, ast.While) and _always_true(node.test) and _inert(node.body):
                return node
    return None


def _called_names(body: Sequence[ast.AST]) -> set[str]:
    return {n.func.id for n in _walk_scope(body) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def _always_true(test: ast.expr) -> bool:
    return isinstance(test, ast.Constant) and test.value in (True, 1) and not isinstance(test.value, float)


def _inert(body: Sequence[ast.stmt]) -> bool:
    """A loop body that can neither leave the loop nor raise: only ``pass``, ``continue`` and constants.

    Anything more (a call, a subscript, even ``n += 1`` on a value of unknown type) could
    raise and so end the loop, which would make "violated" a guess."""
    return all(isinstance(s, (ast.Pass, ast.Continue)) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
               for s in body)


@dataclass
class Bounds:
    """Upper bounds on loop iterations, function by function, over the acyclic call graph."""

    tree: ast.Module
    functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]]
    mutation: bool = False
    module_env: dict[str, Abstract] = field(default_factory=dict)
    local_names: set[str] = field(default_factory=set)
    imported: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.imported = {n for node in ast.walk(self.tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                         for n in _bound_here(node)}
        self._reject_unsupported()
        self.mutation = _mutates(self.tree)
        self.local_names = bound_names(self.tree)
        self.module_env = self._env(self.tree.body, {}, set())

    def program(self, inputs: list[tuple[Any, ...] | None]) -> int:
        """Module body once, plus ``f`` once per input (the worst input counts)."""
        total = self.block(self.tree.body, self.module_env)
        if "f" not in self.functions:
            return total
        calls = [None if args is None else [Abstract.of(a) for a in args] for args in inputs] or [None]
        return total + max(self.call("f", args) for args in calls)

    def _reject_unsupported(self) -> None:
        for name, defs in self.functions.items():
            if len(defs) > 1:
                raise Unknown(f"function {name} is defined {len(defs)} times")
            for decorator in defs[0].decorator_list:
                root = decorator.func if isinstance(decorator, ast.Call) else decorator
                while isinstance(root, ast.Attribute):
                    root = root.value
                if not (isinstance(root, ast.Name) and root.id in self.imported):
                    raise Unknown(f"function {name} has a decorator that is not imported from a pure module, "
                                  "so what a call runs is not known")
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ClassDef):
                raise Unknown(f"class {node.name} at line {node.lineno}: method calls are not followed")
            if isinstance(node, (ast.Global, ast.Nonlocal)):
                raise Unknown(f"{type(node).__name__.lower()} statement at line {node.lineno}")
        cycle = _cycle({n: _called_names(d[0].body) | _referenced_functions(d[0].body, self.functions)
                        for n, d in self.functions.items()})
        if cycle:
            raise Unknown(f"recursion: {' -> '.join(cycle)}; its depth is not known")

    def call(self, name: str, args: list[Abstract] | None) -> int:
        """The bound of one call of a local function with these argument facts (None: unknown)."""
        fn = self.functions[name][0]
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        # a nested function reads its enclosing function's names, not the module's: it inherits nothing
        env = dict(self.module_env) if fn in self.tree.body else {}
        every_param = [*params, *(a.arg for a in fn.args.kwonlyargs), *(a.arg for a in (fn.args.vararg, fn.args.kwarg) if a)]
        env.update(dict.fromkeys(every_param, UNKNOWN_VALUE))
        for position, param in enumerate(params):
            env[param] = args[position] if args is not None and position < len(args) else UNKNOWN_VALUE
        if args is not None and len(args) > len(params) and fn.args.vararg is None:
            raise Unknown(f"{name} takes {len(params)} arguments but an input gives {len(args)}")
        return self.block(fn.body, self._env(fn.body, env, set(every_param)))

    def _env(self, body: list[ast.stmt], inherited: dict[str, Abstract], params: set[str]) -> dict[str, Abstract]:
        """Facts for names bound once, outside loops, in straight-line order; any other binding forgets.

        Inherited facts (parameters, module names) survive only where the body never rebinds them."""
        counts = _binding_counts_body(body)
        env = {k: self._kept(v) for k, v in inherited.items() if counts.get(k, 0) == 0}
        for stmt in _straight_line(body):
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                name = stmt.targets[0].id
                if counts.get(name, 0) == 1 and name not in params:
                    env[name] = self._kept(self.value(stmt.value, env))
        return env

    def _kept(self, value: Abstract) -> Abstract:
        """A mutable value keeps its size only when nothing in the program mutates in place."""
        if value.mutable and self.mutation:
            return Abstract(num=value.num, exact=False) if value.num else UNKNOWN_VALUE
        return value

    def block(self, body: Sequence[ast.stmt], env: dict[str, Abstract]) -> int:
        return sum(self.stmt(s, env) for s in body)

    def stmt(self, node: ast.stmt, env: dict[str, Abstract]) -> int:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return sum(self.expr(d, env) for d in node.args.defaults + node.decorator_list)
        if isinstance(node, ast.While):
            raise Unknown(f"while loop at line {node.lineno}: its bound is not known")
        if isinstance(node, (ast.For, ast.AsyncFor)):
            count = self.size(node.iter, env, f"for loop at line {node.lineno}")
            return self.expr(node.iter, env) + count * (1 + self.block(node.body, env)) + self.block(node.orelse, env)
        if isinstance(node, ast.If):
            return self.expr(node.test, env) + max(self.block(node.body, env), self.block(node.orelse, env))
        if isinstance(node, ast.Try):
            parts = [node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)]
            return sum(self.block(part, env) for part in parts)
        if isinstance(node, ast.With):
            return sum(self.expr(i.context_expr, env) for i in node.items) + self.block(node.body, env)
        if any(isinstance(child, (ast.stmt, ast.match_case, ast.excepthandler)) for child in ast.iter_child_nodes(node)):
            raise Unknown(f"{type(node).__name__} statement at line {node.lineno}: its bodies are not analysed")
        return sum(self.expr(child, env) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr))

    def expr(self, node: ast.expr, env: dict[str, Abstract]) -> int:
        """Iterations hidden in an expression: comprehensions and calls of local functions."""
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return self._comprehension(node, env)
        if isinstance(node, ast.Lambda):
            if self.expr(node.body, {}):
                raise Unknown(f"lambda at line {node.lineno} loops; how often it is called is not known")
            return 0
        if isinstance(node, ast.Call):
            callee = 0 if isinstance(node.func, ast.Name) else self.expr(node.func, env)
            arguments = sum(self.expr(a, env) for a in [*node.args, *(kw.value for kw in node.keywords)])
            return callee + arguments + self._call_cost(node, env)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in self.functions:
            if self.call(node.id, None):
                raise Unknown(f"{node.id} at line {node.lineno} is used as a value; how often it runs is not known")
            return 0
        return sum(self.expr(child, env) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr))

    def _call_cost(self, node: ast.Call, env: dict[str, Abstract]) -> int:
        callee = node.func
        name = callee.id if isinstance(callee, ast.Name) else callee.attr if isinstance(callee, ast.Attribute) else ""
        if name in INFINITE_ITERATORS or (name == "iter" and len(node.args) > 1):
            raise Unknown(f"{name}() at line {node.lineno} can produce values without end")
        if isinstance(callee, ast.Name) and callee.id in self.functions:
            args = None if any(isinstance(a, ast.Starred) for a in node.args) else [self.value(a, env) for a in node.args]
            return self.call(callee.id, args)
        known = callee.id in self.imported or (callee.id in PURE_BUILTINS and callee.id not in self.local_names) \
            if isinstance(callee, ast.Name) else isinstance(callee, ast.Attribute)
        if not known:
            raise Unknown(f"calls {ast.unparse(callee)} at line {node.lineno}, whose code is not known")
        return 0

    def _comprehension(self, node: ast.expr, env: dict[str, Abstract]) -> int:
        elements = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]  # type: ignore[attr-defined]
        inner = sum(self.expr(e, env) for e in elements)
        for gen in reversed(node.generators):  # type: ignore[attr-defined]
            count = self.size(gen.iter, env, f"comprehension at line {node.lineno}")
            inner = self.expr(gen.iter, env) + count * (1 + inner + sum(self.expr(c, env) for c in gen.ifs))
        return inner

    def size(self, node: ast.expr, env: dict[str, Abstract], where: str) -> int:
        size = self.value(node, env).size
        if size is None:
            raise Unknown(f"{where}: the size of {ast.unparse(node)} is not known")
        return size

    def value(self, node: ast.expr, env: dict[str, Abstract]) -> Abstract:
        """What is known of an expression's value: a length bound, an integer range."""
        if isinstance(node, ast.Constant):
            return Abstract.of(node.value) if isinstance(node.value, (int, str, bytes, tuple)) else UNKNOWN_VALUE
        if isinstance(node, ast.Name):
            return env.get(node.id, UNKNOWN_VALUE)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            if any(isinstance(e, ast.Starred) for e in node.elts):
                return UNKNOWN_VALUE
            return Abstract(size=len(node.elts), exact=True, mutable=not isinstance(node, ast.Tuple))
        if isinstance(node, ast.Dict):
            return UNKNOWN_VALUE if None in node.keys else Abstract(size=len(node.keys))
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return Abstract(size=self._comprehension_size(node, env))
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            inner = self.value(node.value, env)
            return Abstract(size=inner.size, mutable=inner.mutable)
        if isinstance(node, ast.IfExp):
            return _join(self.value(node.body, env), self.value(node.orelse, env))
        if isinstance(node, ast.BinOp):
            return self._binop(node, env)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            num = self.value(node.operand, env).num
            return Abstract(num=(-num[1], -num[0])) if num else UNKNOWN_VALUE
        if isinstance(node, ast.Call):
            return self._call_value(node, env)
        return UNKNOWN_VALUE

    def _comprehension_size(self, node: ast.expr, env: dict[str, Abstract]) -> int | None:
        total = 1
        for gen in node.generators:  # type: ignore[attr-defined]
            size = self.value(gen.iter, env).size
            if size is None:
                return None
            total *= size
        return total

    def _binop(self, node: ast.BinOp, env: dict[str, Abstract]) -> Abstract:
        left, right = self.value(node.left, env), self.value(node.right, env)
        if left.num and right.num:
            return Abstract(num=_arith(node.op, left.num, right.num), mutable=False)
        if isinstance(node.op, ast.Add) and left.size is not None and right.size is not None:
            return Abstract(size=left.size + right.size, mutable=left.mutable)
        if isinstance(node.op, ast.Mult):
            seq, times = (left, right) if left.size is not None else (right, left)
            if seq.size is not None and times.num:
                return Abstract(size=seq.size * max(0, times.num[1]), mutable=seq.mutable)
        return UNKNOWN_VALUE

    def _call_value(self, node: ast.Call, env: dict[str, Abstract]) -> Abstract:
        callee, args = node.func, [self.value(a, env) for a in node.args]
        if any(isinstance(a, ast.Starred) for a in node.args) or any(kw.arg is None for kw in node.keywords):
            return UNKNOWN_VALUE
        if isinstance(callee, ast.Attribute):
            inner = self.value(callee.value, env)
            if callee.attr in {"split", "rsplit", "splitlines"} and inner.size is not None:
                return Abstract(size=inner.size + 1)
            if callee.attr in SIZE_METHODS:
                return Abstract(size=inner.size, mutable=callee.attr == "copy" and inner.mutable)
            return UNKNOWN_VALUE
        if not isinstance(callee, ast.Name) or callee.id in self.local_names:
            return UNKNOWN_VALUE
        if callee.id == "dict" and node.keywords:
            return UNKNOWN_VALUE
        return _builtin_value(callee.id, args)


def _builtin_value(name: str, args: list[Abstract]) -> Abstract:
    """What a pure builtin returns, from what is known of its arguments."""
    if name == "range":
        return Abstract(size=_range_size(args), mutable=False)
    if name == "len" and len(args) == 1 and args[0].size is not None:
        return Abstract(num=(args[0].size if args[0].exact else 0, args[0].size), mutable=False)
    if name in SIZE_PRESERVING and len(args) >= 1:
        return Abstract(size=args[0].size, mutable=name in {"sorted", "list", "set", "dict"})
    if name in {"zip", "map", "filter"} and args:
        sizes = [a.size for a in (args[1:] if name != "zip" else args) if a.size is not None]
        return Abstract(size=min(sizes) if sizes else None, mutable=False)
    if name in {"min", "max", "abs"} and args and all(a.num for a in args) and (name != "abs" or len(args) == 1):
        nums = [a.num for a in args]
        if name == "abs":
            lo, hi = nums[0]  # type: ignore[misc]
            return Abstract(num=(0 if lo <= 0 <= hi else min(abs(lo), abs(hi)), max(abs(lo), abs(hi))), mutable=False)
        pick = min if name == "min" else max
        return Abstract(num=(pick(n[0] for n in nums), pick(n[1] for n in nums)), mutable=False)  # type: ignore[index]
    return UNKNOWN_VALUE


def _range_size(args: list[Abstract]) -> int | None:
    """An upper bound on ``len(range(...))`` from integer ranges of its arguments."""
    nums = [a.num for a in args]
    if not 1 <= len(nums) <= 3 or any(n is None for n in nums):
        return None
    start, stop = ((0, 0), nums[0]) if len(nums) == 1 else (nums[0], nums[1])
    step = nums[2] if len(nums) == 3 else (1, 1)
    if step[0] != step[1] or step[0] == 0:  # type: ignore[index]
        return None
    s = step[0]  # type: ignore[index]
    span = stop[1] - start[0] if s > 0 else start[1] - stop[0]  # type: ignore[index]
    return max(0, -(-span // abs(s)))


def _arith(op: ast.operator, a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int] | None:
    """Interval arithmetic for + - * //; each is monotone in each argument, so corners bound it."""
    if isinstance(op, ast.Add):
        return a[0] + b[0], a[1] + b[1]
    if isinstance(op, ast.Sub):
        return a[0] - b[1], a[1] - b[0]
    if isinstance(op, ast.Mult) or (isinstance(op, ast.FloorDiv) and (b[0] > 0 or b[1] < 0)):
        corners = [x * y if isinstance(op, ast.Mult) else x // y for x in a for y in b]
        return min(corners), max(corners)
    return None


def _join(a: Abstract, b: Abstract) -> Abstract:
    size = max(a.size, b.size) if a.size is not None and b.size is not None else None
    num = (min(a.num[0], b.num[0]), max(a.num[1], b.num[1])) if a.num and b.num else None
    return Abstract(size=size, num=num, mutable=a.mutable or b.mutable)


def _mutates(tree: ast.AST) -> bool:
    """Does anything grow or shrink a container in place (through any alias)?"""
    scalars = _scalar_names(tree)
    for node in ast.walk(tree):
        # a mutator counts even uncalled: map(y.append, x) mutates through the reference
        if isinstance(node, ast.Attribute) and (node.attr in MUTATORS or _is_dunder(node.attr)):
            return True
        if isinstance(node, ast.Name) and node.id in MUTATORS:
            return True
        if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            return True
        if isinstance(node, ast.AugAssign) and not (isinstance(node.target, ast.Name) and node.target.id in scalars):
            return True
    return False


def _scalar_names(tree: ast.AST) -> set[str]:
    """Names only ever plainly assigned numbers or strings (``x += ...`` on them cannot mutate a container)."""
    scalar: dict[str, bool] = {}
    plain: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    plain.add(id(target))
                    constant = isinstance(node.value, ast.Constant) and isinstance(node.value.value, (int, float, str))
                    scalar[target.id] = scalar.get(target.id, True) and constant
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            plain.add(id(node.target))
    others = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and id(n) not in plain}
    others |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    return {name for name, is_scalar in scalar.items() if is_scalar and name not in others}


def _binding_counts_body(body: Sequence[ast.stmt]) -> dict[str, int]:
    """How often each name is bound in a scope; a binding inside a loop counts as many."""
    counts: dict[str, int] = {}
    loops = [n for n in _walk_scope(body) if isinstance(n, (ast.For, ast.AsyncFor, ast.While))]
    in_loop = {id(n) for loop in loops for part in (loop.body, loop.orelse) for n in _walk_scope(part)}
    for node in _walk_scope(body):
        names = _bound_here(node)
        for name in names:
            counts[name] = counts.get(name, 0) + (2 if id(node) in in_loop else 1)
    return counts


def _bound_here(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return [node.id]
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, ast.ExceptHandler) and node.name:
        return [node.name]
    return []


def _straight_line(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements in source order, entering if/try/with bodies but not loops or nested defs."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.If, ast.With, ast.Try)):
            for part in ("body", "orelse", "finalbody"):
                yield from _straight_line(getattr(stmt, part, []))
            for handler in getattr(stmt, "handlers", []):
                yield from _straight_line(handler.body)


def _referenced_functions(body: Sequence[ast.AST], functions: dict[str, Any]) -> set[str]:
    return {n.id for n in _walk_scope(body) if isinstance(n, ast.Name) and n.id in functions}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle in the call graph as a path that returns to its start, or None."""
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [node, nxt] if nxt in path else [node, nxt]
            if nxt not in state:
                found = visit(nxt, path + [node])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [])
            if found:
                return found
    return None


# --- the monitor ------------------------------------------------------------------------

class FormalWatchdog:
    """Flags (or vetoes) proposals whose program certainly fails a property; proofs never touch the reward."""

    name = "formal_watchdog"
    watches = frozenset({"proposal"})

    def __init__(self, config: FormalConfig) -> None:
        self.config = config

    def report(self, program: str, inputs: Sequence[str]) -> FormalReport:
        return analyse(program, inputs, self.config.max_iterations)

    def review(self, event: Event) -> list[Finding]:
        """Uses the report the hub already put in the event (``data["formal"]``), else analyses now."""
        program = event.texts.get("program", "")
        if not program.strip():
            return []
        formal = event.data.get("formal") or self.report(program, event.data.get("inputs", ())).as_dict()
        return self.findings(formal)

    def findings(self, formal: dict[str, Any]) -> list[Finding]:
        """One finding per property proven violated, from a :meth:`FormalReport.as_dict`."""
        return [
            Finding(monitor=self.name, kind=f"formal_{prop}", severity="medium", verdict=self.config.on_violated,
                    reason=f"the formal watchdog proves a {prop.replace('_', ' ')} violation: {formal[prop]['reason']}")
            for prop in ("termination", "no_io", "deterministic")
            if formal[prop]["verdict"] == "violated"
        ]
