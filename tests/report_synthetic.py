"""SYNTHETIC LEDGER WRITER for the report tests and benchmark: no model, no sandbox.

It writes the record kinds of docs/ledger.md through the real Ledger API, in the loop's
step-transaction shape, from hand-written program templates. Outputs come from running
those hand-written (trusted) templates in-process. Some families only appear late in the
run, so a correct growth ranking must put one of them first; one distinctive "needle"
task lands at step 1 so a search can be checked against a known answer.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azr.ledger import Ledger

TYPES = ("deduction", "abduction", "induction")

EARLY_TEMPLATES = [
    ("def f(a):\n    return a + {k}", lambda r: str(r.randint(-9, 99))),
    ("def f(s):\n    return s[::-1] + '{c}'", lambda r: repr(r.choice(["abc", "hello", "xyz", "level"]))),
    ("def f(xs):\n    return sorted(xs)[:{k}]", lambda r: repr([r.randint(0, 20) for _ in range(5)])),
    ("def f(s):\n    return s.upper().count('{C}')", lambda r: repr(r.choice(["banana", "cabbage", "abracadabra"]))),
]
LATE_TEMPLATES = [
    ("def f(xs):\n    out = []\n    for x in xs:\n        if x % {k} == 0:\n            out.append(x * x)\n    return out",
     lambda r: repr([r.randint(0, 30) for _ in range(6)])),
    ("def f(d):\n    return {{key: value * {k} for key, value in sorted(d.items())}}",
     lambda r: repr({"a": r.randint(0, 9), "b": r.randint(0, 9)})),
    ("def f(n):\n    total = 0\n    while n > 0:\n        total += n % {k}\n        n //= {k}\n    return total",
     lambda r: str(r.randint(10, 999))),
]
LATE_MARKERS = ("out.append", "sorted(d.items())", "while n > 0")

NEEDLE_PROGRAM = "def f(word):\n    return word.replace('zebra', 'okapi_needle')"
NEEDLE_INPUT = "'zebra crossing'"
NEEDLE_OUTPUT = "'okapi_needle crossing'"

FILLER = (
    "Let me think about what makes a good task here. The reference programs transform their input in a "
    "single pass, so I will write something similar but a little harder: the solver has to trace a loop "
    "or a comprehension and keep track of intermediate values. I must keep it deterministic and small. "
)


@dataclass
class SyntheticRun:
    """Sizes of the synthetic run; the defaults are tiny for unit tests."""

    steps: int = 12
    proposals_per_type: int = 4
    learnability_rollouts: int = 3
    solves_per_type: int = 2
    invalid_rate: float = 0.2
    oversight: bool = False
    evals: bool = False
    scorecard: bool = False
    seed: int = 0


def _run(program: str, literal: str) -> str:
    """Output of a trusted hand-written template on one input, as literal text."""
    namespace: dict[str, Any] = {}
    exec(program, namespace)  # noqa: S102 - our own hand-written templates, not model output
    return repr(namespace["f"](eval(literal)))  # noqa: S307


def _make_program(rng: random.Random, step: int, steps: int) -> tuple[str, str]:
    late_share = 0.0 if step < steps * 0.4 else min(0.8, (step - steps * 0.4) / (steps * 0.4))
    pool = LATE_TEMPLATES if rng.random() < late_share else EARLY_TEMPLATES
    template, make_input = rng.choice(pool)
    k = rng.randint(2, 5)
    program = template.format(k=k, c=rng.choice("xyz"), C=rng.choice("ABN"))
    return program, make_input(rng)


def _proposal(rng: random.Random, step: int, spec: SyntheticRun, task_type: str, phase: str,
              program: str | None = None, literal: str | None = None) -> dict[str, Any]:
    if program is None or literal is None:
        program, literal = _make_program(rng, step, spec.steps)
    invalid = program != NEEDLE_PROGRAM and rng.random() < spec.invalid_rate
    output = _run(program, literal)
    completion = f"<think>{FILLER * rng.randint(1, 3)}</think>\n```python\n{program}\n```\n```input\n{literal}\n```"
    task = None if invalid else {"task_type": task_type, "program": program,
                                 "pairs": [{"input": literal, "output": output}], "message": ""}
    key = None if invalid else hashlib.sha256(f"{task_type}|{program}|{literal}".encode()).hexdigest()
    return {
        "phase": phase, "task_type": task_type, "prompt": f"(synthetic proposer prompt for {task_type})",
        "references": [], "base_program": None, "completion": completion,
        "finish_reason": "stop", "completion_tokens": len(completion) // 4, "malformed": False,
        "program": program, "inputs": [literal], "message": "", "valid": not invalid,
        "reason": "output differs between two runs" if invalid else "ok", "task_key": key, "task": task,
        "executions": [{"ok": True, "value_repr": output, "stdout": "", "duration_s": 0.002}],
        "solve_rate": None, "reward": -0.5 if invalid else None,
    }


def _attempt(rng: random.Random, proposal: dict[str, Any], purpose: str, p_correct: float) -> dict[str, Any]:
    correct = rng.random() < p_correct
    truth = proposal["task"]["pairs"][0]["output"]
    answer = truth if correct else repr(rng.randint(0, 99))
    completion = f"<think>Tracing f step by step. {FILLER[: rng.randint(80, 400)]}</think>\n<answer>{answer}</answer>"
    return {
        "purpose": purpose, "task_type": proposal["task_type"], "task_key": proposal["task_key"],
        "completion": completion, "finish_reason": "stop", "completion_tokens": len(completion) // 4,
        "answer": answer, "malformed": False, "correct": correct,
        "reason": "ok" if correct else "wrong output", "reward": 1.0 if correct else -0.5,
    }


def _step(tx: Any, rng: random.Random, step: int, spec: SyntheticRun) -> None:
    progress = step / max(1, spec.steps)
    proposals, attempts = [], []
    for task_type in TYPES:
        for index in range(spec.proposals_per_type):
            needle = step == 1 and task_type == "deduction" and index == 0
            proposal = _proposal(rng, step, spec, task_type, "train",
                                 NEEDLE_PROGRAM if needle else None, NEEDLE_INPUT if needle else None)
            if proposal["valid"]:
                learn = [_attempt(rng, proposal, "learnability", 0.2 + 0.5 * progress)
                         for _ in range(spec.learnability_rollouts)]
                rate = sum(a["correct"] for a in learn) / len(learn)
                proposal["solve_rate"] = rate
                proposal["reward"] = 1.0 - rate if 0.0 < rate < 1.0 else 0.0
            else:
                learn = []
            proposals.append((proposal, learn))
        valid = [p for p, _ in proposals if p["valid"] and p["task_type"] == task_type]
        attempts += [_attempt(rng, p, "train", 0.2 + 0.5 * progress) for p in valid[: spec.solves_per_type]]
    ids = []
    for proposal, learn in proposals:
        ids.append((tx.append("proposal", proposal), proposal))
        for attempt in learn:
            tx.append("attempt", attempt)
    ids += [(tx.append("attempt", attempt), attempt) for attempt in attempts]
    for record_id, payload in ids:
        role = "propose" if "phase" in payload else "solve"
        tx.append("advantage", {"record_id": record_id, "group": f"{payload['task_type']}.{role}",
                                "reward": payload["reward"], "advantage": rng.gauss(0, 1)})
    for proposal, _ in proposals:
        if proposal["valid"]:
            tx.append("task", {"task_key": proposal["task_key"], "step": step,
                               "solve_rate": proposal["solve_rate"], "task": proposal["task"]})
    tx.append("step_metrics", _metrics(proposals, attempts))
    if spec.oversight:
        _oversight(tx, step)


def _oversight(tx: Any, step: int) -> None:
    """Decisions in the oversight hub's record shape: mostly allows, a flag or veto every 4 steps."""
    tx.append("oversight", {"event": "decision", "on": "proposal", "role": "propose", "task_type": "deduction",
                            "verdict": "allow", "reward_penalty": 0.0, "findings": []})
    if step % 4 == 0:
        verdict = "veto" if step % 8 == 0 else "flag"
        finding = {"monitor": "task_watchdog", "kind": "environment_probe", "severity": "high", "verdict": verdict,
                   "reason": "the program reads os.environ", "score": None,
                   "span": {"field": "program", "start": 27, "end": 37, "text": "os.environ"}}
        tx.append("oversight", {"event": "decision", "on": "validation", "role": "propose",
                                "task_type": "deduction", "verdict": verdict, "reward_penalty": 0.0,
                                "findings": [finding],
                                "sample": {"program": "import os\ndef f(a):\n    return os.environ"}})
    if step == 8:
        tx.append("oversight", {"event": "action", "action": "slow", "seconds": 5.0,
                                "reason": "2 vetoes in the last 8 steps"})


def _metrics(proposals: list[tuple[dict[str, Any], list[dict[str, Any]]]],
             attempts: list[dict[str, Any]]) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for task_type in TYPES:
        mine = [p for p, _ in proposals if p["task_type"] == task_type]
        valid = [p for p in mine if p["valid"]]
        solved = [a for a in attempts if a["task_type"] == task_type]
        metrics[f"reward/{task_type}/propose"] = sum(p["reward"] for p in mine) / len(mine)
        metrics[f"valid_rate/{task_type}"] = len(valid) / len(mine)
        metrics[f"malformed_rate/{task_type}/propose"] = sum(p["malformed"] for p in mine) / len(mine)
        metrics[f"reward_term/{task_type}/propose/learnability"] = metrics[f"reward/{task_type}/propose"]
        metrics[f"reasoning_chars/{task_type}/propose"] = float(len(task_type) * 10)
        if valid:
            metrics[f"proposal_solve_rate/{task_type}"] = sum(p["solve_rate"] for p in valid) / len(valid)
        if solved:
            metrics[f"reward/{task_type}/solve"] = sum(a["reward"] for a in solved) / len(solved)
            metrics[f"solve_rate/{task_type}"] = sum(a["correct"] for a in solved) / len(solved)
            metrics[f"malformed_rate/{task_type}/solve"] = sum(a["malformed"] for a in solved) / len(solved)
    metrics["update/loss"] = float("nan")
    return metrics


def write_synthetic_run(run_dir: Path, spec: SyntheticRun | None = None) -> Path:
    """Write a synthetic run's ledger (and optional scorecard) into ``run_dir``."""
    spec = spec or SyntheticRun()
    rng = random.Random(spec.seed)
    with Ledger.open(run_dir) as ledger:
        ledger.append("run_start", {"config": {"engine": {"model": "synthetic (no model)"}, "steps": spec.steps}})
        with ledger.step(0) as tx:
            for task_type in TYPES:
                tx.append("proposal", _proposal(rng, 0, spec, task_type, "seeding"))
            tx.append("seeding", {"added": 3, "buffers": {t: 1 for t in TYPES}})
        _write_steps(ledger, rng, spec, range(1, spec.steps + 1))
    if spec.scorecard:
        history = run_dir / "oversight" / "scorecards"
        history.mkdir(parents=True, exist_ok=True)
        markdown = f"# Scorecard at step {spec.steps}\n\nvetoes: {spec.steps // 8}\n"
        for folder, stem in ((history, f"step-{spec.steps:06d}"), (run_dir, "scorecard")):
            (folder / f"{stem}.md").write_text(markdown)
            (folder / f"{stem}.json").write_text(json.dumps({"step": spec.steps, "vetoes": spec.steps // 8}))
    return run_dir


def extend_synthetic_run(run_dir: Path, spec: SyntheticRun, more_steps: int) -> int:
    """Append ``more_steps`` steps to a synthetic run, as a live run would; returns the last step."""
    with Ledger.open(run_dir) as ledger:
        first = (ledger.last_complete_step() or 0) + 1
        _write_steps(ledger, random.Random(spec.seed + first), spec, range(first, first + more_steps))
    return first + more_steps - 1


def _write_steps(ledger: Ledger, rng: random.Random, spec: SyntheticRun, steps: range) -> None:
    for step in steps:
        with ledger.step(step) as tx:
            _step(tx, rng, step, spec)
        if spec.evals and step % 5 == 0:
            score = 0.1 + 0.01 * step
            ledger.append("eval", {"bench": "cruxeval-o", "pass@1": score, "pass_at": {"1": score}, "n_items": 50,
                                   "samples": 1, "sampling": {"temperature": 0.0}, "seconds": 1.0,
                                   "model": "synthetic", "source": "in-training"}, step=step)
