"""Scorecards: what the run can do, what oversight saw, and how its curriculum moved.

Built only from ledger records, so a scorecard can be rebuilt for any past step and a
reader can check every number against the records. Kinds the ledger does not hold yet
just leave their section empty.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable, Protocol

from azr.ledger import Ledger
from azr.oversight.config import ScorecardConfig
from azr.oversight.decision import severity_rank

SCORECARD_MD = "scorecard.md"
SCORECARD_JSON = "scorecard.json"
HISTORY_DIR = Path("oversight") / "scorecards"
_STRING_METHODS = frozenset({"join", "split", "upper", "lower", "replace", "strip", "format", "startswith",
                             "endswith", "find", "count", "isdigit", "isalpha"})


class LedgerRecord(Protocol):
    step: int | None
    kind: str
    payload: dict[str, Any]


def program_family(program: str) -> str:
    """A coarse family for a program: the set of constructs it uses, e.g. ``branch+loop``.

    Coarse on purpose: drift should show the curriculum moving from, say, arithmetic
    one-liners to loops over strings, not every renamed variable.
    """
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return "unparsable"
    features: set[str] = set()
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.Lambda))]
    if len(functions) > 1:
        features.add("helper")
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.While)):
            features.add("loop")
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            features.add("comprehension")
        elif isinstance(node, (ast.If, ast.IfExp)):
            features.add("branch")
        elif isinstance(node, (ast.BinOp, ast.AugAssign)):
            features.add("arith")
        elif isinstance(node, (ast.List, ast.Dict, ast.Set, ast.Subscript)):
            features.add("collection")
        elif isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            features.add("string")
        elif isinstance(node, ast.Call):
            features.update(_call_features(node))
    return "+".join(sorted(features)) or "trivial"


def _call_features(node: ast.Call) -> set[str]:
    func = node.func
    if isinstance(func, ast.Name):
        if func.id == "f":
            return {"recursion"}
        if func.id in ("sorted", "min", "max"):
            return {"order"}
    if isinstance(func, ast.Attribute):
        if func.attr == "sort":
            return {"order"}
        if func.attr in _STRING_METHODS:
            return {"string"}
    return set()


def js_divergence(p: Counter[str], q: Counter[str]) -> float:
    """Jensen-Shannon divergence (base 2, in [0, 1]) between two count distributions."""
    total_p, total_q = sum(p.values()), sum(q.values())
    if total_p == 0 or total_q == 0:
        return 0.0
    divergence = 0.0
    for key in set(p) | set(q):
        a, b = p[key] / total_p, q[key] / total_q
        m = (a + b) / 2
        divergence += (a * math.log2(a / m) if a else 0.0) + (b * math.log2(b / m) if b else 0.0)
    return divergence / 2


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def build_scorecard(records: Iterable[LedgerRecord], step: int, config: ScorecardConfig, final: bool = False) -> dict[str, Any]:
    """The scorecard as plain JSON data, from ledger records up to and including ``step``."""
    by_kind: dict[str, list[LedgerRecord]] = defaultdict(list)
    for record in records:
        if record.step is None or record.step <= step:
            by_kind[record.kind].append(record)
    return {
        "step": step,
        "final": final,
        "capability": _capability(by_kind),
        "oversight": _oversight(by_kind["oversight"]),
        "drift": _drift(by_kind["proposal"], config.drift_window_steps),
        "flagged_samples": _flagged(by_kind["oversight"], config.max_flagged_samples),
    }


def _capability(by_kind: dict[str, list[LedgerRecord]]) -> dict[str, Any]:
    attempts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in by_kind["attempt"]:
        attempts[f"{record.payload.get('task_type', '?')}/{record.payload.get('purpose', 'solve')}"].append(record.payload)
    proposals: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in by_kind["proposal"]:
        proposals[str(record.payload.get("task_type", "?"))].append(record.payload)
    metrics = sorted(by_kind["step_metrics"], key=lambda r: r.step or 0)
    evals = sorted(by_kind["eval"], key=lambda r: r.step or 0)
    return {
        "solver": {
            group: {
                "attempts": len(rows),
                "solve_rate": _mean([float(bool(r.get("correct"))) for r in rows]),
                "mean_reward": _mean([float(r["reward"]) for r in rows if isinstance(r.get("reward"), (int, float))]),
            }
            for group, rows in sorted(attempts.items())
        },
        "proposer": {
            task_type: {
                "proposals": len(rows),
                "valid_rate": _mean([float(bool(r.get("valid"))) for r in rows]),
                "mean_reward": _mean([float(r["reward"]) for r in rows if isinstance(r.get("reward"), (int, float))]),
            }
            for task_type, rows in sorted(proposals.items())
        },
        "last_metrics": {"step": metrics[-1].step, "values": metrics[-1].payload} if metrics else None,
        "eval": [{"step": r.step, **r.payload} for r in evals],
    }


def _oversight(records: list[LedgerRecord]) -> dict[str, Any]:
    decisions: Counter[str] = Counter()
    findings: Counter[tuple[str, str, str, str]] = Counter()
    tripwires: Counter[tuple[str, str]] = Counter()
    actions, acks = [], []
    for record in records:
        p = record.payload
        event = p.get("event")
        if event == "decision":
            decisions[f"{p.get('on')}:{p.get('verdict')}"] += 1
            for f in p.get("findings", []):
                findings[(f.get("monitor", ""), f.get("kind", ""), f.get("severity", ""), f.get("verdict", ""))] += 1
            if "tripwire" in p:
                tripwires[(p["tripwire"].get("canary", ""), p["tripwire"].get("outcome", ""))] += 1
        elif event == "action":
            actions.append({"step": record.step, "action": p.get("action"), "reason": p.get("reason")})
        elif event == "resume_ack":
            acks.append({"step": record.step, "ack": p.get("ack"), "pause_reason": p.get("pause_reason")})
    return {
        "vetoes": sum(n for key, n in decisions.items() if key.endswith(":veto")),
        "flags": sum(n for key, n in decisions.items() if key.endswith(":flag")),
        "decisions": dict(sorted(decisions.items())),
        "findings": [
            {"monitor": m, "kind": k, "severity": s, "verdict": v, "count": n}
            for (m, k, s, v), n in sorted(findings.items(), key=lambda item: (-item[1], item[0]))
        ],
        "tripwires": [{"canary": c, "outcome": o, "count": n} for (c, o), n in sorted(tripwires.items())],
        "actions": actions,
        "acknowledgements": acks,
    }


def _drift(proposals: list[LedgerRecord], window: int) -> dict[str, Any]:
    rows = [(r.step, r.payload) for r in proposals if r.step is not None and r.payload.get("program")]
    if not rows:
        return {"first_window": None, "last_window": None, "js_divergence": None, "task_type_js_divergence": None}
    first_step = min(step for step, _ in rows)
    last_step = max(step for step, _ in rows)
    first = [p for step, p in rows if step < first_step + window]
    last = [p for step, p in rows if step > last_step - window]
    fam_first = Counter(program_family(p["program"]) for p in first)
    fam_last = Counter(program_family(p["program"]) for p in last)
    types_first = Counter(str(p.get("task_type")) for p in first)
    types_last = Counter(str(p.get("task_type")) for p in last)
    return {
        "first_window": {"steps": [first_step, first_step + window - 1], "proposals": len(first),
                         "families": dict(fam_first.most_common())},
        "last_window": {"steps": [last_step - window + 1, last_step], "proposals": len(last),
                        "families": dict(fam_last.most_common())},
        "overlapping": last_step - window + 1 <= first_step + window - 1,
        "js_divergence": js_divergence(fam_first, fam_last),
        "task_type_js_divergence": js_divergence(types_first, types_last),
    }


def _flagged(records: list[LedgerRecord], limit: int) -> dict[str, Any]:
    flagged = [r for r in records if r.payload.get("event") == "decision" and r.payload.get("verdict") != "allow"]

    def worst(record: LedgerRecord) -> int:
        return max((severity_rank(f["severity"]) for f in record.payload.get("findings", [])), default=0)

    ordered = sorted(flagged, key=lambda r: (-worst(r), r.payload.get("verdict") != "veto", r.step or 0))
    return {
        "total": len(flagged),
        "shown": [
            {"step": r.step, "on": r.payload.get("on"), "role": r.payload.get("role"),
             "task_type": r.payload.get("task_type"), "verdict": r.payload.get("verdict"),
             "findings": r.payload.get("findings", []), "sample": r.payload.get("sample", {})}
            for r in ordered[:limit]
        ],
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    if not rows:
        return ["_none yet_", ""]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return lines + [""]


def _fenced(text: str) -> list[str]:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, text, fence]


def render_markdown(card: dict[str, Any]) -> str:
    """The scorecard for a human reader; every number also sits in the JSON twin."""
    cap, ovs, drift, flagged = card["capability"], card["oversight"], card["drift"], card["flagged_samples"]
    title = "final scorecard" if card["final"] else "scorecard"
    out = [f"# {title} at step {card['step']}", "", "## Capability", "", "### Solver", ""]
    out += _table(["task type / purpose", "attempts", "solve rate", "mean reward"],
                  [[g, s["attempts"], s["solve_rate"], s["mean_reward"]] for g, s in cap["solver"].items()])
    out += ["### Proposer", ""]
    out += _table(["task type", "proposals", "valid rate", "mean reward"],
                  [[t, s["proposals"], s["valid_rate"], s["mean_reward"]] for t, s in cap["proposer"].items()])
    out += ["### In-training evaluation", ""]
    out += _table(["step", "result"], [[e["step"], json.dumps({k: v for k, v in e.items() if k != "step"})] for e in cap["eval"]])
    if cap["last_metrics"]:
        out += [f"### Metrics at step {cap['last_metrics']['step']}", ""]
        out += _table(["metric", "value"], [[k, v] for k, v in sorted(cap["last_metrics"]["values"].items())])
    out += ["## Oversight", "", f"Vetoes: **{ovs['vetoes']}**, flagged events: **{ovs['flags']}**.", ""]
    out += _table(["monitor", "kind", "severity", "verdict", "count"],
                  [[f["monitor"], f["kind"], f["severity"], f["verdict"], f["count"]] for f in ovs["findings"]])
    out += ["### Tripwires", ""]
    out += _table(["canary", "outcome", "count"], [[t["canary"], t["outcome"], t["count"]] for t in ovs["tripwires"]])
    out += ["### Throttle actions and acknowledgements", ""]
    out += _table(["step", "action", "reason"], [[a["step"], a["action"], a["reason"]] for a in ovs["actions"]])
    out += _table(["step", "acknowledgement", "pause reason"], [[a["step"], a["ack"], a["pause_reason"]] for a in ovs["acknowledgements"]])
    out += ["## Drift of proposed task families", ""]
    if drift["js_divergence"] is None:
        out += ["_no proposals yet_", ""]
    else:
        first, last = drift["first_window"], drift["last_window"]
        out += [f"Jensen-Shannon divergence between the families of steps {first['steps'][0]}-{first['steps'][1]} "
                f"({first['proposals']} proposals) and steps {last['steps'][0]}-{last['steps'][1]} "
                f"({last['proposals']} proposals): **{drift['js_divergence']:.3f}** (0 = same, 1 = disjoint); "
                f"task types: {drift['task_type_js_divergence']:.3f}."
                + (" The windows overlap: too few steps to compare." if drift["overlapping"] else ""), ""]
        families = sorted(set(first["families"]) | set(last["families"]),
                          key=lambda f: -(first["families"].get(f, 0) + last["families"].get(f, 0)))
        out += _table(["family", "first window", "last window"],
                      [[f, first["families"].get(f, 0), last["families"].get(f, 0)] for f in families])
    out += [f"## Flagged samples ({len(flagged['shown'])} of {flagged['total']}, most severe first, vetoes first)", ""]
    for sample in flagged["shown"]:
        kinds = ", ".join(f"{f['kind']} ({f['severity']})" for f in sample["findings"])
        out += [f"### step {sample['step']}, {sample['on']} by {sample['role'] or '-'} "
                f"({sample['task_type'] or '-'}): {sample['verdict']}", "", f"Findings: {kinds}", ""]
        for finding in sample["findings"]:
            span = finding.get("span")
            if span:
                out += [f"- {finding['kind']}: `{span['text'].replace('`', chr(39))}` in {span['field']} "
                        f"[{span['start']}:{span['end']}]: {finding['reason']}"]
            else:
                out += [f"- {finding['kind']}: {finding['reason']}"]
        out += [""]
        for name, text in sample["sample"].items():
            out += [f"{name}:", ""] + _fenced(text) + [""]
    return "\n".join(out).rstrip() + "\n"


class ScorecardWriter:
    """Writes ``scorecard.md``/``.json`` (latest) and a per-step copy under ``oversight/scorecards``."""

    def __init__(self, config: ScorecardConfig, run_dir: Path) -> None:
        self.config = config
        self.run_dir = Path(run_dir)

    def due(self, step: int) -> bool:
        every = self.config.every_n_steps
        return every > 0 and step > 0 and step % every == 0

    def write(self, records: Iterable[LedgerRecord], step: int, final: bool = False) -> Path:
        card = build_scorecard(records, step, self.config, final)
        markdown, data = render_markdown(card), json.dumps(card, indent=2, default=str)
        history = self.run_dir / HISTORY_DIR
        history.mkdir(parents=True, exist_ok=True)
        (history / f"step-{step:06d}.md").write_text(markdown)
        (history / f"step-{step:06d}.json").write_text(data)
        (self.run_dir / SCORECARD_JSON).write_text(data)
        path = self.run_dir / SCORECARD_MD
        path.write_text(markdown)
        return path

    def write_from_ledger(self, step: int, final: bool = False) -> Path:
        with Ledger.open(self.run_dir, readonly=True) as ledger:
            return self.write(ledger.records(until_step=step), step, final)
