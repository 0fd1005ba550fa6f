"""The formal watchdog proves only what its rules guarantee and says unknown elsewhere."""

from __future__ import annotations

from pathlib import Path

from azr.oversight import OversightConfig, OversightHub
from azr.oversight.config import FormalConfig
from azr.oversight.events import Event
from azr.oversight.formal import FormalWatchdog, analyse


def test_loop_over_range_len_of_an_input_is_proven_with_its_bound() -> None:
    report = analyse("def f(x):\n    t = 0\n    for i in range(len(x)):\n        t += x[i]\n    return t", ["[1,2,3]"])
    assert report.termination.verdict == "proven"
    assert report.iteration_bound == 3
    assert report.no_io.verdict == "proven" and report.deterministic.verdict == "proven"
    assert report.decided() == 3


def test_nested_loops_multiply() -> None:
    report = analyse("def f(x):\n    for i in range(3):\n        for j in range(4):\n            pass")
    assert report.iteration_bound == 3 + 3 * 4


def test_while_true_without_exit_is_violated_and_flagged() -> None:
    program = "def f(x):\n    while True:\n        pass"
    report = analyse(program)
    assert report.termination.verdict == "violated"
    assert "line 2" in report.termination.reason
    event = Event(kind="proposal", texts={"program": program}, data={"inputs": ["1"]})
    findings = FormalWatchdog(FormalConfig(on_violated="veto")).review(event)
    assert [(f.kind, f.verdict) for f in findings] == [("formal_termination", "veto")]


def test_while_true_with_break_or_a_body_that_may_raise_and_counting_while_are_unknown() -> None:
    assert analyse("def f(x):\n    while True:\n        break").termination.verdict == "unknown"
    # next() raises StopIteration at the end of the list, so this loop does end
    assert analyse("def f(x):\n    it = iter(x)\n    while True:\n        next(it)").termination.verdict == "unknown"
    report = analyse("def f(n):\n    while n > 0:\n        n -= 1\n    return n", ["3"])
    assert report.termination.verdict == "unknown"
    assert report.iteration_bound is None


def test_recursion_is_unknown() -> None:
    report = analyse("def g(n):\n    return f(n)\ndef f(n):\n    return g(n - 1) if n else 0", ["3"])
    assert report.termination.verdict == "unknown"
    assert "recursion" in report.termination.reason


def test_mutating_the_iterated_list_is_unknown() -> None:
    report = analyse("def f(x):\n    for a in x:\n        x.append(a)", ["[1]"])
    assert report.termination.verdict == "unknown"


def test_an_alias_mutation_also_forgets_the_size() -> None:
    report = analyse("def f(x):\n    y = x\n    for a in x:\n        y.append(a)", ["[1]"])
    assert report.termination.verdict == "unknown"


def test_import_os_violates_no_io_and_determinism() -> None:
    report = analyse("import os\ndef f(x):\n    return x", ["1"])
    assert report.no_io.verdict == "violated" and report.deterministic.verdict == "violated"


def test_dunder_attribute_and_print_violate_no_io() -> None:
    assert analyse("def f(x):\n    return x.__class__").no_io.verdict == "violated"
    report = analyse("def f(x):\n    print(1)")
    assert report.no_io.verdict == "violated"
    assert "print" in report.no_io.reason


def test_unknown_global_name_leaves_no_io_unknown() -> None:
    report = analyse("def f(x):\n    return type(x)")
    assert report.no_io.verdict == "unknown"
    assert report.deterministic.verdict == "unknown"


def test_set_makes_determinism_unknown_and_id_violates_it() -> None:
    assert analyse("def f(x):\n    return list(set(x))").deterministic.verdict == "unknown"
    assert analyse("def f(x):\n    return id(x)").deterministic.verdict == "violated"


def test_syntax_error_leaves_everything_unknown() -> None:
    report = analyse("def f(x:\n", ["1"])
    assert report.decided() == 0
    assert report.no_io.reason == "does not parse"


def test_bound_over_max_iterations_is_unknown() -> None:
    program = "def f(n):\n    return sum(i for i in range(n))"
    assert analyse(program, ["1000"], max_iterations=10_000).iteration_bound == 1000
    report = analyse(program, ["1000"], max_iterations=999)
    assert report.termination.verdict == "unknown" and "max_iterations" in report.termination.reason


def test_local_helper_called_in_a_loop_adds_its_bound_per_iteration() -> None:
    program = "def g(s):\n    return [c for c in s]\ndef f(x):\n    for w in x:\n        g('abc')"
    assert analyse(program, ["[1, 2]"]).iteration_bound == 2 * (1 + 3)


def test_induction_inputs_take_the_worst_case() -> None:
    report = analyse("def f(x):\n    return [i * i for i in x]", ["[1, 2]", "[1, 2, 3, 4]", "[]"])
    assert report.iteration_bound == 4


def test_unparseable_input_leaves_the_size_unknown() -> None:
    assert analyse("def f(x):\n    for a in x:\n        pass", ["[1, 2"]).termination.verdict == "unknown"


def test_range_with_a_lower_bound_from_an_inexact_length_stays_sound() -> None:
    # x's length is only an upper bound after a filter, so range(len(y), 10) must use 0 as its start
    program = "def f(x):\n    y = [a for a in x if a]\n    for i in range(len(y), 10):\n        pass"
    assert analyse(program, ["[1, 0, 2]"]).iteration_bound == 3 + 10


def test_the_hub_records_the_report_and_flags_a_proven_violation(tmp_path: Path) -> None:
    config = OversightConfig.model_validate({"auditor": {"semantic": {"enabled": False}, "intent": {"enabled": False}}})
    hub = OversightHub(config, tmp_path)
    decision = hub.review_proposal("deduction", "def f(a):\n    while True:\n        pass", ["1"], "", "")
    assert decision.verdict == "flag" and decision.monitor == "formal_watchdog"
    assert decision.reward_penalty == 0.0
    [(_, payload)] = hub.drain_records()
    assert payload["formal"]["termination"]["verdict"] == "violated"
    assert hub.review_proposal("deduction", "def f(a):\n    return a", ["1"], "", "").verdict == "allow"
    [(_, payload)] = hub.drain_records()
    assert payload["formal"]["iteration_bound"] == 0


def test_a_locally_defined_decorator_makes_termination_unknown() -> None:
    program = "def d(g):\n    def w(x):\n        while x:\n            pass\n    return w\n@d\ndef f(x):\n    return x"
    assert analyse(program, ["1"]).termination.verdict == "unknown"
    assert analyse("import functools\n@functools.lru_cache\ndef f(x):\n    return x", ["1"]).iteration_bound == 0


def test_a_nested_function_does_not_read_a_module_name_its_enclosing_function_shadows() -> None:
    program = ("n = 3\ndef f(x):\n    n = x\n    def g():\n        for i in range(n):\n            pass\n"
               "    g()")
    assert analyse(program, ["1000000000"]).termination.verdict == "unknown"
    assert analyse("n = 3\ndef f(x, *, n=5):\n    for i in range(n):\n        pass", ["1"]).termination.verdict == "unknown"


def test_loops_inside_a_match_statement_are_not_skipped() -> None:
    program = "def f(x):\n    match x:\n        case 1:\n            while x:\n                pass"
    assert analyse(program, ["1"]).termination.verdict == "unknown"


def test_a_mutator_passed_as_a_value_or_from_operator_still_mutates() -> None:
    assert analyse("def f(x):\n    for a in x:\n        list(map(x.append, [a]))", ["[1]"]).termination.verdict == "unknown"
    program = "import operator\ndef f(x):\n    for a in x:\n        operator.iadd(x, [a])"
    assert analyse(program, ["[1]"]).termination.verdict == "unknown"


def test_dunder_names_reached_through_strings_leave_no_io_unknown() -> None:
    program = "import operator\ndef f(x):\n    return operator.attrgetter('__class__')(x)"
    assert analyse(program).no_io.verdict == "unknown"
    assert analyse("def f(x):\n    return '{0.__class__}'.format(x)").no_io.verdict == "unknown"
    report = analyse("from __future__ import annotations\ndef f(x):\n    return x")
    assert report.no_io.verdict == "unknown" and "__future__" in report.no_io.reason


def test_programs_past_the_parsers_or_the_walks_depth_are_unknown_not_a_crash():
    for program in ("def f(x):\n    return " + "-" * 50_000 + "x", "def f(x):\n    return x" + "+x" * 3_000):
        report = analyse(program, ["1"])
        assert report.decided() == 0, report
