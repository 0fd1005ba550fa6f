"""One Absolute Zero step, in the order of the paper's Algorithm 1.

    propose -> validate in the sandbox -> estimate learnability -> solve -> verify
            -> Task-Relative REINFORCE++ update -> record -> grow the buffers

Everything specific to a task type (prompts, parsing, checking) lives in that type's class;
this file only wires the layers together and owns nothing they own.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Sequence

from azr.buffers import BufferSet
from azr.engine import Engine
from azr.engine.types import Rollout, SamplingParams, TrainSample
from azr.executor import SnippetRunner
from azr.ledger import Ledger
from azr.oversight import Action, OversightHub
from azr.oversight.review import ReviewQueue
from azr.selfplay.config import SamplingSettings, SelfPlayConfig
from azr.selfplay.outcomes import Attempt, Proposal
from azr.selfplay.records import attempt_payload, proposal_payload, task_payload
from azr.selfplay.review_items import StepFlags, queue_step_items
from azr.selfplay.reward_mix import PROPOSE, SOLVE, Graded, RewardMix
from azr.selfplay.rewards import solve_rate
from azr.selfplay.timing import PhaseTimer
from azr.selfplay.verifier_faults import JUDGED_PURPOSES, VerifierFaults
from azr.tasks.base import (
    REWARD_MALFORMED,
    ParsedAnswer,
    ProposalVerdict,
    ProposerRequest,
    TaskType,
    Verdict,
    invalid_proposal,
)
from azr.tasks.config import TasksConfig
from azr.tasks.registry import get_task_type
from azr.tasks.triplet import SEED_TASK, Task

log = logging.getLogger(__name__)



def group_name(task_type: str, role: str) -> str:
    """The (task type, role) label that selects one of the six TRR++ baselines."""
    return f"{task_type}.{role}"


@dataclass
class StepOutcome:
    """What a step produced: metrics for the display and the new tasks for the buffers."""

    step: int
    metrics: dict[str, float]
    new_tasks: list[tuple[Task, dict[str, Any]]]
    action: Action = Action.CONTINUE


class SelfPlayLoop:
    """Runs seeding and steps; the caller owns checkpoints, signals and the display."""

    def __init__(
        self,
        config: SelfPlayConfig,
        engine: Engine,
        runner: SnippetRunner,
        buffers: BufferSet,
        ledger: Ledger,
        rng: random.Random,
        hub: OversightHub,
        tasks_config: TasksConfig | None = None,
    ) -> None:
        self.config = config
        self.hub = hub
        self.tasks_config = tasks_config
        self.engine = engine
        self.runner = runner
        self.buffers = buffers
        self.ledger = ledger
        self.rng = rng
        self.types: dict[str, TaskType] = {name: get_task_type(name, tasks_config) for name in config.task_types}
        self.task_types: list[TaskType] = list(self.types.values())
        self.timer = PhaseTimer()
        self.generated_tokens = 0
        self.reward_mix = RewardMix(config.rewards)
        self.faults = VerifierFaults(config.verifier_faults)
        # Human review: the queue and its vetoes come back from the ledger, so a resumed run
        # keeps out every task a person vetoed, even one its checkpoint still holds.
        self.review = ReviewQueue.from_ledger(hub.config.review, ledger, ledger.run_dir, active=hub.config.enabled)
        self.review.apply_vetoes(buffers)
        self.flags = StepFlags()

    # -- seeding -------------------------------------------------------------------------

    def seed(self) -> int:
        """Fill every buffer from the identity triplet before training (no update).

        Returns the number of valid tasks added. Everything proposed is recorded under
        step 0, so a run that fails to seed still shows why.
        """
        self.flags = StepFlags()
        seeds = [seed for task_type in self.task_types for seed in task_type.seed_tasks(SEED_TASK)]
        for seed in seeds:
            self.buffers.buffer(seed.task_type).add(seed, {"step": 0, "origin": "seed"})
        target = self.config.seed_tasks_per_type
        joined: list[Proposal] = []
        proposals: list[Proposal] = []
        for round_no in range(self.config.max_seeding_rounds):
            lacking = [t for t in self.task_types if len(self.buffers.buffer(t.name)) < target]
            if not lacking:
                break
            log.info("seeding round %d: %s below %d tasks", round_no + 1, [t.name for t in lacking], target)
            batch = self._propose(lacking)
            proposals.extend(batch)
            for proposal in batch:
                task = proposal.verdict.task
                if proposal.verdict.valid and task is not None:
                    if self.buffers.buffer(task.task_type).add(task, {"step": 0, "origin": "seeding"}):
                        joined.append(proposal)
        queue_step_items(self.review, 0, proposals, [], joined, self.flags, self._reasoning)
        with self.ledger.step(0) as tx:
            for seed in seeds:
                tx.append("task", task_payload(seed, 0, None, origin="seed"))
            for proposal in proposals:
                tx.append("proposal", proposal_payload(proposal, phase="seeding"))
            for kind, payload in [*self.hub.drain_records(), *self.review.drain_records()]:
                tx.append(kind, payload)
            for proposal in joined:
                tx.append("task", task_payload(proposal.verdict.task, 0, None, origin="seeding"))
            tx.append("seeding", {"added": len(joined), "buffers": self.buffer_sizes()})
        return len(joined)

    # -- one step --------------------------------------------------------------------------

    def step(self, step: int) -> StepOutcome:
        self.timer.reset()
        self.generated_tokens = 0
        started = time.perf_counter()
        self.flags = StepFlags()
        with self.timer.phase("oversight"):
            self.review.ingest(self.buffers)

        proposals = self._propose(self.task_types)
        valid = [p for p in proposals if p.verdict.valid and p.verdict.task is not None]
        self._estimate_learnability(valid)
        attempts = self._solve(self._solver_tasks(valid))
        tripwire_attempts = self._pose_tripwires(step)
        self._audit_completions(proposals, attempts)
        self._mix_rewards(proposals, attempts)

        trained: list[tuple[Proposal | Attempt, TrainSample]] = [
            (p, p.rollout.to_sample(p.reward, group_name(p.request.task_type, PROPOSE))) for p in proposals
        ]
        trained += [(a, a.rollout.to_sample(a.reward, group_name(a.task.task_type, SOLVE))) for a in attempts]
        samples = [sample for _, sample in trained]
        with self.timer.phase("update"):
            stats = self.engine.update(samples)

        new_tasks = [
            (p.verdict.task, {"step": step, "solve_rate": p.solve_rate, "prompt": p.request.prompt,
                              "completion": p.rollout.text})
            for p in valid
            if p.verdict.task is not None
        ]
        joining = self._joining(proposals)
        metrics = self._metrics(proposals, attempts, samples, stats, joining)
        with self.timer.phase("oversight"):
            queue_step_items(self.review, step, proposals, attempts, joining, self.flags, self._reasoning)
            metrics.update(self.review.metrics())
            action = self.review.end_step(step, self.hub.end_step(step, metrics))
        metrics.update(self.timer.summary(time.perf_counter() - started))
        with self.timer.phase("ledger"):
            self._record(step, joining, trained, stats.advantages, tripwire_attempts, metrics)
        for task, provenance in new_tasks:
            self.buffers.buffer(task.task_type).add(task, provenance)
        metrics.update(self.timer.summary(time.perf_counter() - started))
        metrics["time/step"] = time.perf_counter() - started
        return StepOutcome(step=step, metrics=metrics, new_tasks=new_tasks, action=action)

    # -- oversight -------------------------------------------------------------------------

    def _oversee_proposals(self, proposals: list[Proposal]) -> None:
        """Every proposal meets the monitors; a veto keeps the task out and pays as malformed."""
        with self.timer.phase("oversight"):
            for proposal in proposals:
                verdict, parsed = proposal.verdict, proposal.verdict.proposal
                if parsed.malformed or parsed.program is None:
                    continue
                self.flags.note(proposal, self.hub.review_validation(
                    proposal.request.task_type, parsed.program, verdict.results, verdict.valid, verdict.reason))
                if not verdict.valid:
                    continue
                if verdict.task is not None and self.review.is_vetoed(verdict.task.key()):
                    proposal.verdict = ProposalVerdict(parsed, False, "vetoed by a human reviewer earlier in this run",
                                                       None, REWARD_MALFORMED, verdict.results)
                    continue
                reasoning = self._reasoning(proposal.request.task_type, proposal.rollout.text)
                decision = self.hub.review_proposal(proposal.request.task_type, parsed.program, parsed.inputs,
                                                    parsed.message, reasoning=reasoning)
                self.flags.note(proposal, decision, verdict.task)
                if decision.verdict == "veto":
                    proposal.verdict = ProposalVerdict(parsed, False, f"vetoed by oversight: {decision.reason}",
                                                       None, REWARD_MALFORMED, verdict.results)

    def _audit_completions(self, proposals: list[Proposal], attempts: list[Attempt]) -> None:
        """Audit the reasoning of every trained completion in one batch; apply any penalty."""
        graded: list[Proposal | Attempt] = [*proposals, *attempts]
        with self.timer.phase("oversight"):
            decisions = self.hub.review_completions(
                [(PROPOSE, p.request.task_type, p.rollout.text) for p in proposals]
                + [(SOLVE, a.task.task_type, a.rollout.text) for a in attempts]
            )
            for item, decision in zip(graded, decisions):
                item.penalty = decision.reward_penalty
                self.flags.note(item, decision)
            for attempt in attempts:
                self.flags.note(attempt, self.hub.review_attempt(
                    attempt.task.task_type, attempt.answer.value or "", attempt.verdict.results,
                    attempt.verdict.correct, attempt.verdict.reward))

    def _mix_rewards(self, proposals: list[Proposal], attempts: list[Attempt]) -> None:
        """Score every trained rollout with the configured reward terms (the task reward by default)."""
        graded: list[Proposal | Attempt] = [*proposals, *attempts]
        views = [self._graded(item) for item in graded]
        with self.timer.phase("rewards"):
            for item, (total, terms) in zip(graded, self.reward_mix.score(views), strict=True):
                item.mixed, item.terms = total, terms

    def _graded(self, item: Proposal | Attempt) -> Graded:
        if isinstance(item, Proposal):
            role, type_name, prompt = PROPOSE, item.request.task_type, item.request.prompt
            stated = tuple(item.verdict.proposal.inputs)
        else:
            role, type_name, prompt = SOLVE, item.task.task_type, self._type(item.task.task_type).solver_prompt(item.task)
            stated = (item.answer.value,) if item.answer.value else ()
        reasoning = self._type(type_name).reply.reasoning(item.rollout.text)
        return Graded(role, prompt, item.rollout.text, reasoning, stated, item.task_reward)

    def _pose_tripwires(self, step: int) -> list[Attempt]:
        """Canary tasks the solver can only solve by breaking isolation; never trained on."""
        canaries = self.hub.tripwire_tasks(step)
        if not canaries:
            return []
        tasks = [canary.task() for canary in canaries]
        rollouts = self._generate([self._type(t.task_type).solver_prompt(t) for t in tasks], self.config.solver, n=1)
        attempts = []
        for canary, task, rollout in zip(canaries, tasks, rollouts):
            answer = self._type(task.task_type).read_answer(task, rollout.text)
            with self.timer.phase("oversight"):
                decision = self.hub.check_tripwire(canary, answer.value, self.runner, completion=rollout.text)
            alarmed = decision.verdict != "allow"
            verdict = Verdict(correct=False, malformed=answer.malformed, reason=decision.reason or "no alert",
                              reward=0.0)
            attempts.append(Attempt(task, rollout, answer, verdict, purpose="tripwire" + ("_alert" if alarmed else "")))
        return attempts

    def _reasoning(self, type_name: str, completion: str) -> str:
        return self._type(type_name).reply.reasoning(completion)

    def _type(self, name: str) -> TaskType:
        if name not in self.types:
            self.types[name] = get_task_type(name, self.tasks_config)
        return self.types[name]

    # -- phases ------------------------------------------------------------------------------

    def _propose(self, task_types: Sequence[TaskType]) -> list[Proposal]:
        """Ask each type for B proposer prompts, generate them in one batch, validate per type."""
        requests: list[ProposerRequest] = []
        with self.timer.phase("prompts"):
            for task_type in task_types:
                for _ in range(self.config.proposals_per_type):
                    request = task_type.proposer_request(self.buffers, self.config.references, self.rng)
                    if request is not None:
                        requests.append(request)
        proposals = self.answer_requests(self._fitting(requests))
        self._oversee_proposals(proposals)
        return proposals

    def answer_requests(self, requests: Sequence[ProposerRequest], greedy: bool = False) -> list[Proposal]:
        """Generate one proposal per request in one batch and validate each type's in the sandbox.

        Held-out proposer probes call this greedily with fixed requests; training calls it
        through ``_propose``, which adds oversight. Proposals come back grouped by type.
        """
        if not requests:
            return []
        rollouts = self._generate([r.prompt for r in requests], self.config.proposer, n=1, greedy=greedy)
        proposals: list[Proposal] = []
        for type_name in dict.fromkeys(r.task_type for r in requests):
            task_type = self._type(type_name)
            mine = [(r, ro) for r, ro in zip(requests, rollouts) if r.task_type == type_name]
            parsed = [task_type.read_proposal(request, rollout.text) for request, rollout in mine]
            with self.timer.phase("execute"):
                verdicts = task_type.validate(parsed, self.runner)
            verdicts = [self._solvable(task_type, v) for v in verdicts]
            proposals += [Proposal(r, ro, v, self.config.reward_scheme) for (r, ro), v in zip(mine, verdicts)]
        return proposals

    def _solvable(self, task_type: TaskType, verdict: ProposalVerdict) -> ProposalVerdict:
        """A task whose solver prompt would be refused for length cannot be trained on: invalid."""
        if not verdict.valid or verdict.task is None or self.engine.prompt_fits(task_type.solver_prompt(verdict.task)):
            return verdict
        return invalid_proposal(verdict.proposal, "the solver prompt for this task is longer than the prompt limit",
                                verdict.results)

    def _fitting(self, requests: list[ProposerRequest]) -> list[ProposerRequest]:
        """Proposer prompts that fit the model's context; references can make one too long."""
        kept = [r for r in requests if self.engine.prompt_fits(r.prompt)]
        if len(kept) < len(requests):
            log.warning("%d proposer prompts were too long for the model's context and were dropped",
                        len(requests) - len(kept))
        return kept

    def _estimate_learnability(self, valid: list[Proposal]) -> None:
        """n sampled solver rollouts per valid proposal give its solve rate (never greedy)."""
        if not valid:
            return
        tasks = [p.verdict.task for p in valid]
        attempts = self.attempt(tasks, n=self.config.learnability_rollouts, purpose="learnability")  # type: ignore[arg-type]
        per_task: dict[int, list[Attempt]] = defaultdict(list)
        n = self.config.learnability_rollouts
        for index, attempt in enumerate(attempts):
            per_task[index // n].append(attempt)
        for index, proposal in enumerate(valid):
            proposal.attempts = per_task[index]
            proposal.solve_rate = solve_rate([a.verdict.correct for a in proposal.attempts])

    def _solver_tasks(self, valid: list[Proposal]) -> list[Task]:
        """Per type, exactly B tasks: this step's new tasks first, then the buffer's, uniformly.

        When fewer distinct tasks exist than B, some are asked twice (as the reference pads
        its batch), so every (type, solve) group has the same size; a type with no task at
        all gets none.
        """
        chosen: list[Task] = []
        quota = self.config.solves_per_type
        for task_type in self.task_types:
            fresh = [p.verdict.task for p in valid if p.request.task_type == task_type.name and p.verdict.task]
            fresh_keys = {t.key() for t in fresh}
            stored = [t for t in self.buffers.buffer(task_type.name).sample(quota, self.rng) if t.key() not in fresh_keys]
            distinct = (fresh + stored)[:quota]
            if distinct:
                chosen += distinct + self.rng.choices(distinct, k=quota - len(distinct))
        return chosen

    def _solve(self, tasks: list[Task]) -> list[Attempt]:
        return self.attempt(tasks, n=1, purpose="train") if tasks else []

    def attempt(self, tasks: Sequence[Task], n: int, purpose: str, greedy: bool = False) -> list[Attempt]:
        """Generate n solver rollouts per task and check them, batched by task type.

        Returns attempts ordered task by task (n consecutive attempts per task). ``greedy``
        decodes at temperature 0 (evaluation); training and learnability always sample.
        """
        prompts = [self._type(t.task_type).solver_prompt(t) for t in tasks]
        rollouts = self._generate(prompts, self.config.solver, n=n, greedy=greedy)
        by_prompt: dict[int, list[Rollout]] = defaultdict(list)
        for rollout in rollouts:
            by_prompt[rollout.prompt_index].append(rollout)
        pairs = [(tasks[i], ro) for i in range(len(tasks)) for ro in by_prompt[i]]
        verdicts: dict[int, tuple[ParsedAnswer, Verdict]] = {}
        for type_name in {t.task_type for t in tasks}:
            task_type = self._type(type_name)
            indices = [i for i, (task, _) in enumerate(pairs) if task.task_type == type_name]
            answers = [task_type.read_answer(pairs[i][0], pairs[i][1].text) for i in indices]
            with self.timer.phase("execute"):
                checked = task_type.check([pairs[i][0] for i in indices], answers, self.runner)
            verdicts.update({i: (a, v) for i, a, v in zip(indices, answers, checked)})
        attempts = [Attempt(task, ro, *verdicts[i], purpose=purpose) for i, (task, ro) in enumerate(pairs)]
        if self.faults.active and purpose in JUDGED_PURPOSES:
            for attempt in attempts:
                attempt.honest = attempt.verdict
                attempt.verdict, attempt.fault = self.faults.judge(attempt.task, attempt.answer, attempt.verdict)
        return attempts

    def _generate(self, prompts: list[str], settings: SamplingSettings, n: int, greedy: bool = False) -> list[Rollout]:
        params = SamplingParams(
            temperature=0.0 if greedy else settings.temperature,
            top_p=settings.top_p,
            max_new_tokens=settings.max_new_tokens,
            stop=tuple(settings.stop),
            n=n,
            seed=self.rng.randrange(2**31),
        )
        with self.timer.phase("generate"):
            rollouts = self.engine.generate(prompts, params)
        self.generated_tokens += sum(len(r.completion_ids) for r in rollouts)
        return rollouts

    # -- bookkeeping -------------------------------------------------------------------------

    def buffer_sizes(self) -> dict[str, int]:
        return {t.name: len(self.buffers.buffer(t.name)) for t in self.task_types}

    def _joining(self, proposals: list[Proposal]) -> list[Proposal]:
        """The valid proposals whose task is new to its buffer, the first of each task only."""
        joining: dict[str, Proposal] = {}
        for proposal in proposals:
            task = proposal.verdict.task
            if proposal.verdict.valid and task is not None and task.key() not in joining:
                if self.buffers.buffer(task.task_type).admits(task.key()):
                    joining[task.key()] = proposal
        return list(joining.values())

    def _metrics(
        self, proposals: list[Proposal], attempts: list[Attempt], samples: list[TrainSample], stats: Any,
        joining: list[Proposal],
    ) -> dict[str, float]:
        """Per (type, role) means, named as the quantities they are.

        Buffer sizes are those after the step's new tasks join, the state its checkpoint saves.
        """
        metrics: dict[str, float] = {}
        rewards: dict[str, list[float]] = defaultdict(list)
        for sample in samples:
            rewards[sample.group].append(sample.reward)
        for group, values in rewards.items():
            task_type, role = group.split(".")
            metrics[f"reward/{task_type}/{role}"] = sum(values) / len(values)
        metrics.update(self._term_metrics([*proposals, *attempts]))
        for task_type in self.task_types:
            mine = [p for p in proposals if p.request.task_type == task_type.name]
            if mine:
                valid = [p for p in mine if p.verdict.valid]
                metrics[f"count/proposed/{task_type.name}"] = float(len(mine))
                metrics[f"count/valid/{task_type.name}"] = float(len(valid))
                metrics[f"valid_rate/{task_type.name}"] = len(valid) / len(mine)
                metrics[f"malformed_rate/{task_type.name}/propose"] = (
                    sum(p.verdict.proposal.malformed for p in mine) / len(mine))
                rates = [p.solve_rate for p in valid if p.solve_rate is not None]
                if rates:
                    metrics[f"proposal_solve_rate/{task_type.name}"] = sum(rates) / len(rates)
                    metrics[f"learnable_share/{task_type.name}"] = sum(0 < r < 1 for r in rates) / len(rates)
            solved = [a for a in attempts if a.task.task_type == task_type.name]
            if solved:
                correct = sum(a.verdict.correct for a in solved)
                metrics[f"count/attempts/{task_type.name}"] = float(len(solved))
                metrics[f"count/solved/{task_type.name}"] = float(correct)
                metrics[f"solve_rate/{task_type.name}"] = correct / len(solved)
                metrics[f"malformed_rate/{task_type.name}/solve"] = (
                    sum(a.verdict.malformed for a in solved) / len(solved))
            buffer = self.buffers.buffer(task_type.name)
            arriving = sum(1 for p in joining if p.request.task_type == task_type.name)
            metrics[f"buffer/{task_type.name}"] = float(min(buffer.capacity, len(buffer) + arriving))
        if self.faults.active:
            judged = [a for p in proposals for a in p.attempts] + attempts
            for fault in ("false_accept", "false_reject"):
                metrics[f"verifier/{fault}s"] = float(sum(a.fault == fault for a in judged))
        metrics["tokens/generated"] = float(self.generated_tokens)
        generate_s = self.timer.totals.get("generate", 0.0)
        metrics["tokens/per_s"] = self.generated_tokens / generate_s if generate_s > 0 else 0.0
        for name in ("loss", "policy_loss", "kl", "entropy", "clip_fraction", "grad_norm",
                     "sampler_logprob_gap", "sampler_logprob_gap_max", "weight_sync_seconds"):
            metrics[f"update/{name}"] = float(getattr(stats, name))
        metrics["update/peak_memory_gib"] = stats.peak_memory_bytes / 2**30
        return metrics

    def _term_metrics(self, graded: list[Proposal | Attempt]) -> dict[str, float]:
        """Per (type, role): each reward term's mean, and the mean reasoning length in characters."""
        values: dict[str, list[float]] = defaultdict(list)
        for item in graded:
            type_name, role = ((item.request.task_type, PROPOSE) if isinstance(item, Proposal)
                               else (item.task.task_type, SOLVE))
            for name, value in item.terms.items():
                values[f"reward_term/{type_name}/{role}/{name}"].append(value)
            values[f"reasoning_chars/{type_name}/{role}"].append(
                float(len(self._type(type_name).reply.reasoning(item.rollout.text))))
        return {key: sum(v) / len(v) for key, v in values.items()}

    def _record(
        self,
        step: int,
        joining: list[Proposal],
        trained: list[tuple[Proposal | Attempt, TrainSample]],
        advantages: list[float],
        untrained: list[Attempt],
        metrics: dict[str, float],
    ) -> None:
        """Everything the step produced, in one transaction: all or nothing.

        Each trained rollout's record is written with its own sample and advantage, so
        attempts that are never trained (learnability rollouts, tripwire canaries) cannot
        shift the pairing.
        """
        with self.ledger.step(step) as tx:
            for (item, sample), advantage in zip(trained, advantages, strict=True):
                if isinstance(item, Proposal):
                    record_id = tx.append("proposal", proposal_payload(item, phase="train"))
                    for attempt in item.attempts:
                        tx.append("attempt", attempt_payload(attempt))
                else:
                    record_id = tx.append("attempt", attempt_payload(item))
                tx.append("advantage", {"record_id": record_id, "group": sample.group,
                                        "reward": sample.reward, "advantage": advantage})
            for attempt in untrained:
                tx.append("attempt", attempt_payload(attempt))
            for proposal in joining:
                tx.append("task", task_payload(proposal.verdict.task, step, proposal.solve_rate, origin="proposal"))
            for kind, payload in [*self.hub.drain_records(), *self.review.drain_records()]:
                tx.append(kind, payload)
            tx.append("step_metrics", metrics)
