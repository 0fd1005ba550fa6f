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


def test_unparsable_source_is_one_syntax_violation():
    violations = POLICY.check("def f(:\n")
    assert [v.kind for v in violations] == ["syntax"]


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
