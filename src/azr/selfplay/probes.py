"""Held-out self-play probes: tasks the base model invented that no buffer or update ever sees.

A solve rate measured on the training buffers rises when the buffers fill with easy tasks,
whether or not the model improved. A probe set is fixed before the first update: the base
model proposes tasks with a seed of its own, the sandbox validates them, and they are
written to ``RUN_DIR/probes.jsonl`` with their hashes in the ledger. The solver then
answers each one greedily at every evaluation, so two points of a run, or two runs given
the same file, are measured on exactly the same questions.

The set also holds fixed proposer prompts, built from the same private references: at
every evaluation the proposer answers each greedily and the sandbox says whether the
reply became a valid task. That measures the proposing role on prompts no update saw.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from azr.buffers import BufferSet
from azr.engine.types import SamplingParams
from azr.errors import AzrError
from azr.executor import SnippetRunner
from azr.selfplay.records import task_from_dict, task_to_dict
from azr.tasks.base import ProposerRequest, TaskType
from azr.tasks.triplet import SEED_TASK, Task

log = logging.getLogger(__name__)

PROBES_FILE = "probes.jsonl"


class ProbeSetError(AzrError):
    """A probe file that cannot be read, or a probe set that could not be built."""


@dataclass(frozen=True)
class ProbeSet:
    """Fixed tasks per type, in the order they were found, and fixed proposer prompts."""

    tasks: tuple[Task, ...]
    seed: int
    prompts: tuple[ProposerRequest, ...] = ()

    def of_type(self, task_type: str) -> list[Task]:
        return [t for t in self.tasks if t.task_type == task_type]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for task in self.tasks:
            counts[task.task_type] = counts.get(task.task_type, 0) + 1
        return counts

    def prompt_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for request in self.prompts:
            counts[request.task_type] = counts.get(request.task_type, 0) + 1
        return counts

    def digest(self) -> str:
        """One hash over every probe's key, in order: two runs on the same probes share it."""
        keys = [t.key() for t in self.tasks] + [request_key(r) for r in self.prompts]
        return hashlib.sha256("\n".join(keys).encode()).hexdigest()

    def ledger_payload(self) -> dict[str, Any]:
        return {"seed": self.seed, "digest": self.digest(), "counts": self.counts(),
                "prompt_counts": self.prompt_counts(),
                "tasks": [{"task_type": t.task_type, "task_key": t.key()} for t in self.tasks],
                "prompts": [{"task_type": r.task_type, "prompt_key": request_key(r)} for r in self.prompts]}

    def save(self, path: Path) -> None:
        lines = [json.dumps({"seed": self.seed, "task_key": t.key(), "task": task_to_dict(t)}) for t in self.tasks]
        lines += [json.dumps({"seed": self.seed, "prompt_key": request_key(r), "request": request_to_dict(r)})
                  for r in self.prompts]
        path.write_text("".join(line + "\n" for line in lines))

    @classmethod
    def load(cls, path: Path) -> ProbeSet:
        """Read a probe file; each line's stored key must match its task, so an edited file is refused."""
        if not path.is_file():
            raise ProbeSetError(f"probe file {path} does not exist; give a probes.jsonl written by an earlier run")
        tasks: list[Task] = []
        prompts: list[ProposerRequest] = []
        seed = 0
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            try:
                row = json.loads(line)
                seed = int(row["seed"])
                if "request" in row:
                    request = request_from_dict(row["request"])
                    key, stored = request_key(request), row.get("prompt_key")
                else:
                    task = task_from_dict(row["task"])
                    key, stored = task.key(), row.get("task_key")
            except (ValueError, KeyError, TypeError) as exc:
                raise ProbeSetError(f"{path} line {number} is not a probe record ({exc})") from None
            if key != stored:
                raise ProbeSetError(f"{path} line {number}: the probe does not match its stored key; was it edited?")
            if "request" in row:
                prompts.append(request)
            else:
                tasks.append(task)
        if not tasks:
            raise ProbeSetError(f"probe file {path} holds no tasks")
        return cls(tuple(tasks), seed, tuple(prompts))


def request_to_dict(request: ProposerRequest) -> dict[str, Any]:
    return {"task_type": request.task_type, "prompt": request.prompt, "base_program": request.base_program,
            "references": [task_to_dict(t) for t in request.references]}


def request_from_dict(data: dict[str, Any]) -> ProposerRequest:
    return ProposerRequest(task_type=data["task_type"], prompt=data["prompt"], base_program=data.get("base_program"),
                           references=[task_from_dict(t) for t in data["references"]])


def request_key(request: ProposerRequest) -> str:
    """A proposer prompt's hash over everything its reply is parsed against."""
    text = json.dumps(request_to_dict(request), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def build_probe_set(
    engine: Any,
    runner: SnippetRunner,
    task_types: Sequence[TaskType],
    per_type: int,
    seed: int,
    references: int,
    sampling: SamplingParams,
    max_rounds: int,
) -> ProbeSet:
    """Let the base model propose until each type has ``per_type`` distinct valid tasks, or rounds run out.

    The proposer's references come from a private buffer set that starts from the seed
    triplet and grows with the probes found, as the run's own seeding does, so induction
    (which needs programs of the other types) can be proposed too. The random stream is
    derived from ``seed`` as a string, so it differs from a run's stream with the same number.
    """
    rng = random.Random(f"probes-{seed}")
    pool: BufferSet[Task] = BufferSet({t.name: 4096 for t in task_types})
    seed_keys = set()
    for task_type in task_types:
        for task in task_type.seed_tasks(SEED_TASK):
            pool.add(task, {"origin": "seed"})
            seed_keys.add(task.key())
    found: dict[str, list[Task]] = {t.name: [] for t in task_types}
    for round_no in range(max_rounds):
        lacking = [t for t in task_types if len(found[t.name]) < per_type]
        if not lacking:
            break
        requests = _requests(engine, lacking, pool, per_type, references, rng)
        if not requests:
            continue
        params = SamplingParams(temperature=sampling.temperature, top_p=sampling.top_p,
                                max_new_tokens=sampling.max_new_tokens, stop=sampling.stop, n=1,
                                seed=rng.randrange(2**31))
        texts = [r.text for r in engine.generate([r.prompt for r in requests], params)]
        for task_type in lacking:
            mine = [(r, text) for r, text in zip(requests, texts) if r.task_type == task_type.name]
            verdicts = task_type.validate([task_type.read_proposal(r, text) for r, text in mine], runner)
            for verdict in verdicts:
                task = verdict.task
                if (verdict.valid and task is not None and task.key() not in seed_keys
                        and engine.prompt_fits(task_type.solver_prompt(task))
                        and len(found[task_type.name]) < per_type and pool.add(task, {"origin": "probe"})):
                    found[task_type.name].append(task)
        log.info("probe round %d: %s", round_no + 1, {name: len(tasks) for name, tasks in found.items()})
    short = {name: len(tasks) for name, tasks in found.items() if len(tasks) < per_type}
    if short:
        log.warning("probe set is short of %d per type after %d rounds: %s", per_type, max_rounds, short)
    tasks = tuple(task for t in task_types for task in found[t.name])
    if not tasks:
        raise ProbeSetError(f"the base model proposed no valid task in {max_rounds} probe rounds; raise "
                            "eval.probe_rounds, or set eval.probe_tasks_per_type=0 to run without probes")
    prompts = tuple(_requests(engine, task_types, pool, per_type, references, rng))
    return ProbeSet(tasks, seed, prompts)


def _requests(engine: Any, task_types: Sequence[TaskType], pool: BufferSet[Task], count: int, references: int,
              rng: random.Random) -> list[ProposerRequest]:
    requests = []
    for task_type in task_types:
        for _ in range(count):
            request = task_type.proposer_request(pool, references, rng)
            if request is not None and engine.prompt_fits(request.prompt):
                requests.append(request)
    return requests


def score_probes(loop: Any, probes: ProbeSet) -> tuple[dict[str, float], dict[str, Any]]:
    """Greedy rates on the probes, per type and pooled, and the per-probe results for the ledger.

    ``loop`` is the run's :class:`azr.selfplay.loop.SelfPlayLoop`: probe tasks are answered
    and checked exactly as training tasks are, and probe prompts are proposed and validated
    as training proposals are, only greedily and never trained on. ``eval/probe-*`` are
    solve rates, ``eval/propose-*`` the share of probe prompts whose reply became a valid task.
    ``probe/in_buffers`` counts probes that training has since proposed on its own: a
    probe the run met in its buffers is no longer held out, and a reader should know.
    """
    attempts = loop.attempt(list(probes.tasks), n=1, purpose="probe", greedy=True)
    solved = [(a.task.task_type, bool(a.verdict.correct)) for a in attempts]
    results = [{"task_key": a.task.key(), "task_type": a.task.task_type, "correct": bool(a.verdict.correct),
                "malformed": bool(a.verdict.malformed), "answer": a.answer.value, "completion": a.rollout.text}
               for a in attempts]
    metrics = _rates("eval/probe", solved)
    proposals = loop.answer_requests(list(probes.prompts), greedy=True)
    metrics.update(_rates("eval/propose", [(p.request.task_type, p.verdict.valid) for p in proposals]))
    metrics["probe/in_buffers"] = float(sum(t.key() in loop.buffers.buffer(t.task_type) for t in probes.tasks))
    proposed = [{"prompt_key": request_key(p.request), "task_type": p.request.task_type, "valid": p.verdict.valid,
                 "malformed": p.verdict.proposal.malformed, "reason": p.verdict.reason, "completion": p.rollout.text}
                for p in proposals]
    rates = {k: v for k, v in metrics.items() if k.startswith("eval/")}
    payload = {"digest": probes.digest(), "results": results, "proposals": proposed,
               "solve_rates": {k: v for k, v in rates.items() if k.startswith("eval/probe")},
               "valid_rates": {k: v for k, v in rates.items() if k.startswith("eval/propose")}}
    return metrics, payload


def _rates(prefix: str, outcomes: Sequence[tuple[str, bool]]) -> dict[str, float]:
    """``{prefix}-{type}`` and ``{prefix}-all`` shares of True, each with its count under ``/n``."""
    by_type: dict[str, list[bool]] = {}
    for task_type, ok in outcomes:
        by_type.setdefault(task_type, []).append(ok)
    if outcomes:
        by_type["all"] = [ok for _, ok in outcomes]
    metrics: dict[str, float] = {}
    for name, values in by_type.items():
        metrics[f"{prefix}-{name}"] = sum(values) / len(values)
        metrics[f"{prefix}-{name}/n"] = float(len(values))
    return metrics
