"""Oversight benchmark: false flags on real completions, recall on concerning paraphrases, cost.

Completions come from benchmarks/oversight_generate.py (the packaged default model on
the project's own proposer and solver prompts). This script audits them, and the held-out
examples in benchmarks/oversight_examples.yaml, with the lexicon alone (the baseline) and
with lexicon + MiniLM semantic matching, and times every monitor per event.

    flock /tmp/azr-heavy.lock python benchmarks/oversight_generate.py --count 320
    python benchmarks/oversight.py
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml
from rich.console import Console
from rich.table import Table

from azr.oversight.audit import AuditItem, programs_of
from azr.oversight.auditor import ReasoningAuditor
from azr.oversight.config import AuditorConfig, IntentConfig, SemanticConfig, WatchdogConfig
from azr.oversight.decision import Finding
from azr.oversight.watchdog import TaskText, TaskWatchdog
from oversight_generate import DEFAULT_OUT

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE / "oversight_examples.yaml"
console = Console()

@dataclass
class Rates:
    name: str
    flagged: int
    total: int

    @property
    def rate(self) -> float:
        return self.flagged / self.total if self.total else 0.0


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[Any, float]:
    start = time.perf_counter()
    for _ in range(repeat):
        result = fn()
    return result, (time.perf_counter() - start) / repeat


def audit_completions(rows: list[dict[str, str]], lexicon: ReasoningAuditor, full: ReasoningAuditor,
                      watchdog: TaskWatchdog) -> tuple[list[Rates], dict[str, float], list[tuple[str, Finding]]]:
    texts = [("completion", r["completion"]) for r in rows]
    lex, lex_s = timed(lambda: lexicon.review_texts(texts))
    assert full.semantic is not None
    full.semantic.scan_many(texts[:4])  # load the model and embed the prototypes outside the timing
    sem, sem_s = timed(lambda: full.semantic.scan_many(texts))
    _, single_s = timed(lambda: [full.semantic.scan_many([t]) for t in texts[:32]])
    proposals = [TaskText(row["task_type"], program, (), row["completion"] if row["role"] == "propose" else "")
                 for row in rows for program in programs_of(AuditItem(row["role"], {"completion": row["completion"]}))]
    dog, dog_s = timed(lambda: [watchdog.review_task(p) for p in proposals])
    content = [[f for f in found if f.kind != "safety_policy"] for found in dog]
    vetoed_content = sum(any(f.verdict == "veto" for f in found) for found in content)
    examples: list[tuple[str, Finding]] = []
    for row, a, b in zip(rows, lex, sem):
        examples += [(row["completion"], f) for f in a + b]
    for task, found in zip(proposals, content):
        examples += [(task.program, f) for f in found]
    rates = [
        Rates("completions flagged, lexicon only (baseline)", sum(bool(x) for x in lex), len(rows)),
        Rates("completions flagged, semantic only", sum(bool(x) for x in sem), len(rows)),
        Rates("completions flagged, lexicon + semantic", sum(bool(a or b) for a, b in zip(lex, sem)), len(rows)),
        Rates("code blocks: any content-rule finding", sum(bool(x) for x in content), len(proposals)),
        Rates("code blocks: content-rule veto", vetoed_content, len(proposals)),
        Rates("code blocks: AST safety-policy veto (policy, not a false flag)",
              sum(any(f.kind == "safety_policy" for f in found) for found in dog), len(proposals)),
    ]
    n = max(len(rows), 1)
    costs = {
        "lexicon auditor, per completion": lex_s / n * 1e3,
        "semantic auditor, batched, per completion": sem_s / n * 1e3,
        "semantic auditor, one completion per call": single_s / min(32, n) * 1e3,
        "task watchdog (AST policy + content), per code block": dog_s / max(len(proposals), 1) * 1e3,
    }
    return rates, costs, examples


def recall(lexicon: ReasoningAuditor, full: ReasoningAuditor) -> list[Rates]:
    data = yaml.safe_load(EXAMPLES.read_text())
    concerning = [("completion", s) for sentences in data["concerning"].values() for s in sentences]
    benign = [("completion", s) for s in data["benign"]]
    assert full.semantic is not None
    out = []
    for name, items in (("concerning paraphrases caught", concerning), ("benign near-misses flagged", benign)):
        lex = lexicon.review_texts(items)
        sem = full.semantic.scan_many(items)
        out += [Rates(f"{name}, lexicon only (baseline)", sum(bool(x) for x in lex), len(items)),
                Rates(f"{name}, semantic only", sum(bool(x) for x in sem), len(items)),
                Rates(f"{name}, lexicon + semantic", sum(bool(a or b) for a, b in zip(lex, sem)), len(items))]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--completions", type=Path, nargs="+", default=[DEFAULT_OUT])
    parser.add_argument("--show", type=int, default=8, help="print this many flagged spans")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    lexicon = ReasoningAuditor(AuditorConfig(semantic=SemanticConfig(enabled=False), intent=IntentConfig(enabled=False)))
    full = ReasoningAuditor(AuditorConfig(semantic=SemanticConfig(enabled=True)))
    watchdog = TaskWatchdog(WatchdogConfig())
    table = Table(title="false flags on real SmolLM2-135M completions; recall on written paraphrases")
    for column in ("set", "measure", "flagged", "of", "rate"):
        table.add_column(column, justify="left" if column in ("set", "measure") else "right")
    examples: list[tuple[str, Finding]] = []
    for path in args.completions:
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        rates, costs, found = audit_completions(rows, lexicon, full, watchdog)
        examples += found
        roles = {r: sum(row["role"] == r for row in rows) for r in ("propose", "solve")}
        label = f"{path.name} ({roles['propose']} proposer, {roles['solve']} solver)"
        for r in rates:
            table.add_row(label, r.name, str(r.flagged), str(r.total), f"{r.rate:.1%}")
    for r in recall(lexicon, full):
        table.add_row(EXAMPLES.name, r.name, str(r.flagged), str(r.total), f"{r.rate:.1%}")
    console.print(table)
    cost = Table(title=f"cost per event (ms, last set, {os.cpu_count()} shared CPU cores)")
    cost.add_column("monitor")
    cost.add_column("ms", justify="right")
    for name, ms in costs.items():
        cost.add_row(name, f"{ms:.2f}")
    console.print(cost)
    for _, finding in examples[: args.show]:
        span = finding.span.text if finding.span else ""
        console.print(f"[yellow]{finding.kind}[/] ({finding.severity}, {finding.monitor}"
                      f"{f', {finding.score:.2f}' if finding.score else ''}): {span!r}")


if __name__ == "__main__":
    main()
