"""The AST safety policy: what it catches, what it lets through, and that it is configurable."""

import pytest

from azr.config import build_config
from azr.tasks.config import TasksConfig
from azr.tasks.safety import SafetyPolicy, SafetyPolicyConfig

POLICY = SafetyPolicy()


@pytest.mark.parametrize(
    ("source", "kind", "name"),
    [
        ("import os\ndef f(a): return a", "module", "os"),
        ("import os.path as p\ndef f(a): return a", "module", "os.path"),
        ("from subprocess import run\ndef f(a): return a", "module", "subprocess"),
        ("def f(a):\n    import random\n    return random.random()", "module", "random"),
        ("from datetime import datetime\ndef f(a): return a", "module", "datetime"),
        ("def f(a): return open(a).read()", "builtin", "open"),
        ("def f(a): return eval(a)", "builtin", "eval"),
        ("def f(a):\n    g = exec\n    return g", "builtin", "exec"),
        ("def f(a): return __import__('os')", "builtin", "__import__"),
        ("def f(a): return ().__class__.__bases__[0].__subclasses__()", "attribute", "__subclasses__"),
        ("def f(a): return f.__globals__", "attribute", "__globals__"),
        ("def f(a): return getattr(a, '__globals__')", "builtin", "getattr"),
        ("def f(a): return (lambda: 0).__code__", "attribute", "__code__"),
        ("def f(a):\n    return [x.gi_frame for x in a]", "attribute", "gi_frame"),
        ("from . import x\ndef f(a): return a", "import", "."),
    ],
)
def test_policy_catches(source, kind, name):
    violations = POLICY.check(source)
    assert any(v.kind == kind and v.name == name for v in violations), violations
    assert all(v.reason and v.line >= 1 for v in violations)


@pytest.mark.parametrize(
    "source",
    [
        "def f(a):\n    return a",
        "import math\nfrom collections import Counter\ndef f(xs):\n    return Counter(xs).most_common(1), math.gcd(4, 6)",
        "import itertools, functools, re, string\ndef f(s):\n    return re.sub('a', 'b', s)",
        "def f(d):\n    class P:\n        def __init__(self, v): self.v = v\n    return sorted(d.items())",
        "def f(s):\n    return s.upper().__len__()",
    ],
)
def test_policy_passes_ordinary_programs(source):
    assert POLICY.check(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "def f(a):\n    class P:\n        def __repr__(self):\n            return self.__class__.__name__\n    return repr(P())",
        "def f(a):\n    return type(a).__name__ + a.__class__.__qualname__ + f.__module__",
        "def f(a):\n    class Base:\n        def __init_subclass__(cls, **kw):\n"
        "            super().__init_subclass__(**kw)\n    class Box(Base):\n        def __len__(self):\n"
        "            return len(a)\n    return len(Box())",
    ],
)
def test_harmless_dunders_pass(source):
    assert POLICY.check(source) == []


# Each pair: a program whose name is the program's own binding (passes), and a near twin in
# which the same read can reach the built-in (refused).
SHADOWING = [
    ("def f(input):\n    return input * 2",
     "def f(a):\n    return input() * 2"),
    ("def f(a):\n    vars = [1, 2]\n    return vars + a",
     "def f(a):\n    return vars(a)"),
    ("def f(compile, *, exit=0):\n    return compile + exit",
     "def f(c, *, e=exit):\n    return c"),
    ("def f(a):\n    def open(x):\n        return x + 1\n    return open(a)",
     "def f(a):\n    def g(x):\n        return x + 1\n    return open(a)"),
    ("def f(a):\n    return [input for input in a]",
     "def f(a):\n    return [x for x in input(a)]"),
    ("def f(input):\n    return [x for x in input]",
     "def f(input=input):\n    return input"),
    ("def f(a):\n    input = a\n    def g():\n        return input + 1\n    return g() + (lambda: input)()",
     "def f(a):\n    class P:\n        input = a\n        def m(self):\n            return input\n    return P().m()"),
    ("def f(a):\n    vars = 0\n    def g():\n        nonlocal vars\n        vars += a\n    g()\n    return vars",
     "def f(a):\n    global vars\n    return vars(a)"),
    ("def f(a):\n    try:\n        return a[0]\n    except IndexError as eval:\n        return str(eval)",
     "def f(a):\n    try:\n        return a[0]\n    except IndexError as e:\n        return eval(a)"),
    ("def f(a):\n    match a:\n        case [open, *rest]:\n            return open\n    return None",
     "def f(a):\n    match a:\n        case [x, *rest]:\n            return open\n    return None"),
    ("def f(a):\n    if (vars := a):\n        return vars\n    return 0",
     "if (vars := [1]):\n    pass\ndef f(a):\n    return vars"),
    ("def f(a):\n    locals = 0\n    locals += a\n    return locals",
     "locals += 1\ndef f(a):\n    return a"),
    ("vars = [1, 2]\ndef f(a):\n    return vars + a",
     "def g():\n    return vars()\nx = g()\nvars = [1, 2]\ndef f(a):\n    return x"),
    ("if True:\n    vars = 1\nelse:\n    vars = 2\ndef f(a):\n    return vars",
     "if True:\n    vars = 1\ndef f(a):\n    return vars"),
    ("for input in range(3):\n    print(input)\ndef f(a):\n    return a",
     "for input in range(3):\n    pass\ndef f(a):\n    return input"),
    ("vars = 1\nfor i in range(2):\n    print(vars)\ndef f(a):\n    return vars",
     "vars = 1\nfor i in range(2):\n    print(vars)\n    del vars\ndef f(a):\n    return a"),
    ("vars = 1\ndef f(a):\n    return vars",
     "vars = 1\ndel vars\ndef f(a):\n    return vars"),
    ("vars = 1\ndef g():\n    global vars\n    vars = 2\ndef f(a):\n    return vars",
     "vars = 1\ndef g():\n    global vars\n    del vars\ndef f(a):\n    return vars"),
    ("vars = 1\ntry:\n    pass\nexcept Exception as e:\n    pass\ndef f(a):\n    return vars",
     "vars = 1\ntry:\n    pass\nexcept Exception as vars:\n    pass\ndef f(a):\n    return vars"),
    ("class P:\n    vars = 1\n    y = vars\ndef f(a):\n    return P.y",
     "class P:\n    y = vars\n    vars = 1\ndef f(a):\n    return P.y"),
    ("import math\ndef f(a):\n    open = math.floor\n    return open(a)",
     "from math import floor as open\ndef f(a):\n    return open(a)"),
    ("from math import *\ndef f(a):\n    open = floor\n    return open(a)",
     "from math import *\ndef f(a):\n    return open(a)"),
]


@pytest.mark.parametrize(("own", "builtin"), SHADOWING)
def test_a_name_the_program_binds_is_its_own_but_the_builtin_is_refused(own, builtin):
    assert POLICY.check(own) == []
    violations = POLICY.check(builtin)
    assert [v.kind for v in violations] == ["builtin"], violations


def test_a_function_local_name_never_falls_back_to_the_builtin():
    # The read comes before the assignment, yet Python makes the name local to f, so the
    # call raises UnboundLocalError and never reaches the built-in.
    assert POLICY.check("def f(a):\n    x = vars(a)\n    vars = 1\n    return x") == []
    assert POLICY.check("x = vars()\nvars = 1\ndef f(a):\n    return x")[0].name == "vars"


def test_unparsable_source_is_one_syntax_violation():
    violations = POLICY.check("def f(:\n")
    assert [v.kind for v in violations] == ["syntax"]


def test_a_program_too_deep_to_check_is_refused_not_a_crash():
    deep = "def f(input):\n    return " + "+".join(["input"] * 600)
    assert [v.kind for v in POLICY.check(deep)] == ["syntax"]


def test_every_violation_is_reported_in_line_order():
    source = "import os\nimport sys\ndef f(a):\n    return eval(a)"
    assert [(v.line, v.name) for v in POLICY.check(source)] == [(1, "os"), (2, "sys"), (4, "eval")]


def test_lists_are_configurable():
    relaxed = SafetyPolicy(SafetyPolicyConfig(denied_modules=["socket"]))
    assert relaxed.check("import random\ndef f(a): return a") == []
    assert relaxed.check("import socket\ndef f(a): return a")[0].name == "socket"


def test_lists_are_configurable_through_overrides():
    config = build_config(TasksConfig, overrides=["safety.denied_builtins=[print]"])
    policy = SafetyPolicy(config.safety)
    assert policy.check("def f(a): return eval(a)") == []
    assert policy.check("def f(a): print(a)")[0].kind == "builtin"
