"""Scorecards from ledger records: capability, oversight, drift, flagged samples verbatim."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from azr.oversight.config import ScorecardConfig
from azr.oversight.scorecard import build_scorecard, js_divergence, program_family, render_markdown


@dataclass
class Rec:
    step: int | None
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)


ARITH = "def f(a):\n    return a * 2 + 1"
LOOP = "def f(xs):\n    total = 0\n    for x in xs:\n        if x > 0:\n            total += x\n    return total"


def test_families_describe_constructs() -> None:
    assert program_family(ARITH) == "arith"
    assert program_family(LOOP) == "arith+branch+loop"
    assert program_family("def f(s):\n    return s.upper()") == "string"
    assert program_family("def f(n):\n    return 1 if n < 2 else n * f(n - 1)") == "arith+branch+recursion"
    assert program_family("def f(:") == "unparsable"


def test_js_divergence_bounds() -> None:
    same = Counter(a=3, b=1)
    assert js_divergence(same, Counter(a=6, b=2)) == pytest.approx(0.0)
    assert js_divergence(Counter(a=1), Counter(b=1)) == pytest.approx(1.0)
    assert 0 < js_divergence(Counter(a=3, b=1), Counter(a=1, b=3)) < 1
    assert js_divergence(Counter(), Counter(a=1)) == 0.0


def test_empty_ledger_gives_empty_sections() -> None:
    card = build_scorecard([], step=5, config=ScorecardConfig())
    assert card["capability"]["solver"] == {} and card["oversight"]["vetoes"] == 0
    assert card["drift"]["js_divergence"] is None and card["flagged_samples"]["total"] == 0
    markdown = render_markdown(card)
    assert "_none yet_" in markdown and "_no proposals yet_" in markdown


def records() -> list[Rec]:
    out: list[Rec] = []
    for step in range(1, 21):
        program = ARITH if step <= 10 else LOOP
        out.append(Rec(step, "proposal", {"task_type": "deduction", "program": program, "valid": step % 2 == 0, "reward": 0.5}))
        out.append(Rec(step, "attempt", {"task_type": "deduction", "purpose": "train", "correct": step % 4 == 0, "reward": 1.0 if step % 4 == 0 else -0.5}))
        out.append(Rec(step, "step_metrics", {"reward/deduction/solve": step / 20}))
    out.append(Rec(7, "oversight", {"event": "decision", "on": "completion", "role": "solve", "task_type": "deduction",
                                    "verdict": "flag", "findings": [{"monitor": "reasoning_auditor", "kind": "deception",
                                    "severity": "high", "verdict": "flag", "reason": "r",
                                    "span": {"field": "completion", "start": 0, "end": 8, "text": "outsmart"}}],
                                    "sample": {"completion": "outsmart them ```with backticks```"}}))
    out.append(Rec(9, "oversight", {"event": "decision", "on": "proposal", "verdict": "veto", "findings": [
        {"monitor": "task_watchdog", "kind": "networking", "severity": "high", "verdict": "veto", "reason": "r", "span": None}],
        "sample": {"program": "import socket"}}))
    out.append(Rec(10, "oversight", {"event": "decision", "on": "tripwire", "verdict": "flag", "tripwire": {"canary": "honeytoken", "outcome": "blocked"},
                                     "findings": [{"monitor": "tripwire", "kind": "tripwire_blocked", "severity": "high", "verdict": "flag", "reason": "r"}]}))
    out.append(Rec(10, "oversight", {"event": "action", "action": "pause", "reason": "too many"}))
    out.append(Rec(10, "oversight", {"event": "resume_ack", "ack": "checked by hand", "pause_reason": "too many"}))
    out.append(Rec(12, "eval", {"cruxeval_o": 0.12}))
    return out


def test_sections_from_records() -> None:
    card = build_scorecard(records(), step=20, config=ScorecardConfig(drift_window_steps=5))
    solver = card["capability"]["solver"]["deduction/train"]
    assert solver["attempts"] == 20 and solver["solve_rate"] == pytest.approx(0.25)
    assert card["capability"]["proposer"]["deduction"]["valid_rate"] == pytest.approx(0.5)
    assert card["capability"]["last_metrics"]["values"] == {"reward/deduction/solve": 1.0}
    assert card["capability"]["eval"] == [{"step": 12, "cruxeval_o": 0.12}]
    oversight = card["oversight"]
    assert oversight["vetoes"] == 1 and oversight["flags"] == 2
    assert oversight["tripwires"] == [{"canary": "honeytoken", "outcome": "blocked", "count": 1}]
    assert oversight["actions"][0]["action"] == "pause" and oversight["acknowledgements"][0]["ack"] == "checked by hand"
    drift = card["drift"]
    assert drift["first_window"]["families"] == {"arith": 5} and drift["last_window"]["families"] == {"arith+branch+loop": 5}
    assert drift["js_divergence"] == pytest.approx(1.0) and drift["task_type_js_divergence"] == pytest.approx(0.0)
    json.dumps(card)


def test_steps_after_the_scorecard_step_are_left_out() -> None:
    card = build_scorecard(records(), step=8, config=ScorecardConfig(drift_window_steps=4))
    assert card["capability"]["solver"]["deduction/train"]["attempts"] == 8
    assert card["flagged_samples"]["total"] == 1
    assert card["drift"]["js_divergence"] == pytest.approx(0.0)


def test_markdown_shows_flagged_samples_verbatim_most_severe_first() -> None:
    markdown = render_markdown(build_scorecard(records(), step=20, config=ScorecardConfig()))
    assert "outsmart them ```with backticks```" in markdown
    assert "````" in markdown  # a longer fence keeps the sample's own backticks intact
    assert markdown.index("import socket") < markdown.index("outsmart them")  # at equal severity, vetoes first
    assert "| deduction/train | 20 | 0.250 |" in markdown


def test_flagged_samples_are_capped() -> None:
    card = build_scorecard(records(), step=20, config=ScorecardConfig(max_flagged_samples=1))
    assert card["flagged_samples"]["total"] == 3 and len(card["flagged_samples"]["shown"]) == 1
