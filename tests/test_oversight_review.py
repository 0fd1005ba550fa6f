"""Human review queue: sampling, flagged items, the inbox, vetoes, the backlog pause and resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _stub_engine import StubEngine

from azr.buffers import BufferSet
from azr.engine.types import Rollout
from azr.ledger import Ledger
from azr.oversight import (
    PAUSE_EXIT_CODE,
    Action,
    ActionKind,
    Decision,
    Finding,
    RunPausedError,
    acknowledge,
    ensure_may_continue,
)
from azr.oversight.review import (
    DECISION_KIND,
    ITEM_KIND,
    HumanDecision,
    ReviewConfig,
    ReviewInputError,
    ReviewQueue,
    append_decision,
    inbox_path,
    sampled,
)
from azr.selfplay import trainer as trainer_module
from azr.selfplay.config import load_run_config
from azr.selfplay.outcomes import Attempt, Proposal
from azr.selfplay.records import task_from_dict
from azr.selfplay.review_items import StepFlags, queue_step_items
from azr.selfplay.run_dir import STATE, RunDir
from azr.selfplay.trainer import Trainer
from azr.tasks.base import (
    ParsedAnswer,
    ParsedProposal,
    ProposalVerdict,
    ProposerRequest,
    Verdict,
)
from azr.tasks.triplet import IOPair, Task


def _task(k: int) -> Task:
    return Task("deduction", f"def f(x):\n    return x + {k}", (IOPair(input="1", output=str(1 + k)),))


def _rollout(text: str) -> Rollout:
    return Rollout(0, "prompt", [1], [2], [-1.0], text, "stop", 1.0)


def _proposal(k: int) -> Proposal:
    task = _task(k)
    request = ProposerRequest("deduction", "prompt", [])
    parsed = ParsedProposal(request, False, "", task.program, ["1"], "")
    return Proposal(request, _rollout(f"I add {k}.</think><answer>...</answer>"),
                    ProposalVerdict(parsed, True, "valid", task, -1.0), "reference")


def _attempt(k: int) -> Attempt:
    return Attempt(_task(k), _rollout(f"It returns {1 + k}."), ParsedAnswer(False, "", str(1 + k)),
                   Verdict(True, False, "output matches", 1.0), purpose="train")


def _flag(reason: str, verdict: str = "flag") -> Decision:
    return Decision.from_findings([Finding("reasoning_auditor", "intent", "high", reason, verdict)])  # type: ignore[arg-type]


def _queue(tmp_path: Path, **config: object) -> ReviewQueue:
    return ReviewQueue(ReviewConfig.model_validate(config), tmp_path)


def _decide(run_dir: Path, item_id: str, decision: str, reason: str = "looks like a plain arithmetic task") -> None:
    append_decision(run_dir, HumanDecision.new(item_id, decision, reason, "Ada Reviewer"))


def _commit(ledger: Ledger, step: int, queue: ReviewQueue) -> None:
    with ledger.step(step) as tx:
        for kind, payload in queue.drain_records():
            tx.append(kind, payload)


def test_sampling_is_deterministic_and_near_the_rate() -> None:
    keys = [_task(k).key() for k in range(4000)]
    picks = [sampled(0, 0.05, "task", key) for key in keys]
    assert 0.04 < sum(picks) / len(picks) < 0.06
    assert picks == [sampled(0, 0.05, "task", key) for key in keys]
    assert picks != [sampled(1, 0.05, "task", key) for key in keys], "the seed must change which items are picked"
    assert not any(sampled(0, 0.0, "task", key) for key in keys)
    assert all(sampled(0, 1.0, "task", key) for key in keys)


def test_the_loop_samples_new_tasks_and_attempts_by_hash(tmp_path: Path) -> None:
    proposals, attempts = [_proposal(k) for k in range(400)], [_attempt(k) for k in range(400)]
    queue = _queue(tmp_path, sample_rate=0.25)
    added = queue_step_items(queue, 3, proposals, attempts, proposals, StepFlags(), lambda _t, text: text)
    assert 0.2 * 800 < added < 0.3 * 800
    again = _queue(tmp_path, sample_rate=0.25)
    assert queue_step_items(again, 3, proposals, attempts, proposals, StepFlags(), lambda _t, text: text) == added
    items = [payload for kind, payload in queue.drain_records() if kind == ITEM_KIND]
    assert [i["task_key"] for i in items] == [i["task_key"] for kind, i in again.drain_records() if kind == ITEM_KIND]
    assert {i["item_id"] for i in items} == {f"3.{n}" for n in range(1, added + 1)}
    solve = next(i for i in items if i["role"] == "solve")
    assert solve["answer"] and solve["correct"] is True and solve["why"] == ["sample"]
    # A proposal whose task was already in a buffer (not joining) is never sampled.
    assert queue_step_items(_queue(tmp_path, sample_rate=1.0), 4, proposals, [], [], StepFlags(), str) == 0


def test_flagged_items_are_always_queued(tmp_path: Path) -> None:
    proposals, attempts = [_proposal(k) for k in range(20)], [_attempt(k) for k in range(20)]
    flags = StepFlags()
    flags.note(proposals[3], _flag("talks about the grader"))
    flags.note(proposals[5], _flag("reads the environment", "veto"), task=proposals[5].verdict.task)
    proposals[5].verdict = ProposalVerdict(proposals[5].verdict.proposal, False, "vetoed by oversight", None, -1.0)
    flags.note(attempts[7], _flag("mentions the test harness"))
    flags.note(attempts[8], Decision())
    queue = _queue(tmp_path, sample_rate=0.0)
    assert queue_step_items(queue, 1, proposals, attempts, proposals, flags, lambda _t, text: text) == 3
    items = {i["task_key"]: i for _, i in queue.drain_records()}
    assert items[_task(3).key()]["why"] == ["flag (reasoning_auditor): talks about the grader"]
    vetoed = items[_task(5).key()]
    assert vetoed["why"] == ["veto (reasoning_auditor): reads the environment"] and vetoed["valid"] is False
    assert vetoed["outputs"] == ["6"], "an oversight-vetoed proposal still shows the task it would have been"
    assert items[_task(7).key()]["role"] == "solve"
    assert queue_step_items(_queue(tmp_path, sample_rate=0.0, include_flagged=False), 1, proposals, attempts,
                            proposals, flags, str) == 0
    assert queue_step_items(_queue(tmp_path, enabled=False, sample_rate=1.0), 1, proposals, attempts,
                            proposals, flags, str) == 0


def test_decisions_are_validated_with_clear_errors() -> None:
    good = {"decision_id": "d1", "item_id": "1.1", "decision": "veto", "reason": "r", "reviewer": "Ada",
            "decided_at": "2024-01-01T00:00:00+00:00"}
    assert HumanDecision.parse(good).decision == "veto"
    for change, message in [({"reviewer": "  "}, "'reviewer' must be a non-empty string"),
                            ({"reason": None}, "'reason' must be a non-empty string"),
                            ({"decision": "maybe"}, "'decision' must be one of approve, veto"),
                            ({"reviewer": "x" * 101}, "longer than 100")]:
        with pytest.raises(ReviewInputError, match=message):
            HumanDecision.parse({**good, **change})
    with pytest.raises(ReviewInputError, match="JSON object"):
        HumanDecision.parse(["not", "an", "object"])


def test_the_inbox_rejects_bad_lines_with_clear_errors_and_loses_no_data(tmp_path: Path) -> None:
    queue = _queue(tmp_path)
    first, second = queue.add(1, {"task_key": _task(1).key()}), queue.add(1, {"task_key": _task(2).key()})
    _decide(tmp_path, first, "approve")
    with inbox_path(tmp_path).open("a") as handle:
        handle.write("{this is not json\n")
        handle.write(json.dumps({"decision_id": "x", "item_id": second, "decision": "approve", "reason": "ok",
                                 "decided_at": "now"}) + "\n")
        handle.write("\n")
    _decide(tmp_path, "9.9", "veto")
    _decide(tmp_path, first, "veto", "changed my mind")
    partial = json.dumps(HumanDecision.new(second, "veto", "half written", "Bob").to_dict())
    with inbox_path(tmp_path).open("a") as handle:
        handle.write(partial[:20])
    queue.drain_records()

    assert queue.ingest(BufferSet({"deduction": 8})) == 5
    records = [payload for kind, payload in queue.drain_records() if kind == DECISION_KIND]
    assert [r["status"] for r in records] == ["accepted", "rejected", "rejected", "rejected", "rejected"]
    assert records[0]["item_id"] == first and records[0]["reviewer"] == "Ada Reviewer"
    assert records[1]["error"].startswith("not a JSON line") and records[1]["line"] == "{this is not json"
    assert "'reviewer' must be a non-empty string" in records[2]["error"] and "\"reason\": \"ok\"" in records[2]["line"]
    assert records[3]["error"] == "no review item '9.9' in this run" and records[3]["decision"] == "veto"
    assert records[4]["error"] == f"review item {first!r} was already decided"
    assert records[4]["reason"] == "changed my mind", "a rejected decision keeps everything it said"
    assert queue.backlog == 1, "the second item is still undecided: its decision is not finished"

    with inbox_path(tmp_path).open("a") as handle:
        handle.write(partial[20:] + "\n")
    assert queue.ingest(BufferSet({"deduction": 8})) == 1
    [finished] = queue.drain_records()
    assert finished[1]["status"] == "accepted" and finished[1]["reason"] == "half written"
    assert queue.inbox_offset == inbox_path(tmp_path).stat().st_size
    assert queue.ingest(BufferSet({"deduction": 8})) == 0 and queue.drain_records() == []


def test_a_veto_removes_the_task_from_the_buffers_and_it_cannot_rejoin(tmp_path: Path) -> None:
    buffers: BufferSet[Task] = BufferSet({"deduction": 8, "abduction": 8})
    for k in range(3):
        buffers.add(_task(k), {"step": 1})
    queue = _queue(tmp_path)
    item = queue.add(1, {"task_key": _task(1).key()})
    _decide(tmp_path, item, "veto", "the task rewards reading the grader")
    queue.ingest(buffers)
    [(_, payload)] = [r for r in queue.drain_records() if r[0] == DECISION_KIND]
    assert payload["status"] == "accepted" and payload["removed_from"] == ["deduction"]
    assert _task(1).key() not in buffers.buffer("deduction") and len(buffers.buffer("deduction")) == 2
    assert not buffers.add(_task(1), {"step": 2}), "a vetoed task must not rejoin"
    assert not buffers.buffer("deduction").admits(_task(1).key())
    assert queue.is_vetoed(_task(1).key()) and queue.metrics()["review/vetoed"] == 0.0  # drained: counts reset


def test_an_approval_keeps_the_task(tmp_path: Path) -> None:
    buffers: BufferSet[Task] = BufferSet({"deduction": 8})
    buffers.add(_task(1), {"step": 1})
    queue = _queue(tmp_path)
    _decide(tmp_path, queue.add(1, {"task_key": _task(1).key()}), "approve")
    queue.ingest(buffers)
    assert _task(1).key() in buffers.buffer("deduction") and queue.backlog == 0 and not queue.vetoed


def test_a_backlog_over_the_limit_pauses_through_the_pause_file(tmp_path: Path) -> None:
    queue = _queue(tmp_path, pause_backlog=2)
    queue.add(1, {"task_key": None})
    queue.add(1, {"task_key": None})
    assert queue.end_step(1, Action.CONTINUE) == Action.CONTINUE
    ensure_may_continue(tmp_path)
    queue.add(2, {"task_key": None})
    action = queue.end_step(2, Action.CONTINUE)
    assert action.kind is ActionKind.PAUSE and "pause_backlog=2" in action.reason
    with pytest.raises(RunPausedError, match="azr resume"):
        ensure_may_continue(tmp_path)
    assert ("oversight", {"event": "action", "action": "pause", "seconds": 0.0, "reason": action.reason}) in \
        queue.drain_records()
    assert _queue(tmp_path / "off", pause_backlog=0).end_step(1, Action.CONTINUE) == Action.CONTINUE
    stop = Action(ActionKind.STOP, reason="tripwire")
    assert queue.end_step(3, stop) is stop, "a harder action from the throttle is kept"


def test_resume_rebuilds_the_queue_and_the_vetoed_set_from_the_ledger(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with Ledger.open(run) as ledger:
        queue = ReviewQueue.from_ledger(ReviewConfig(), ledger, run)
        items = [queue.add(1, {"task_key": _task(k).key()}) for k in range(4)]
        _commit(ledger, 1, queue)
        _decide(run, items[0], "veto")
        _decide(run, items[1], "approve")
        with inbox_path(run).open("a") as handle:
            handle.write("garbage\n")
        queue.ingest(BufferSet({"deduction": 8}))
        _commit(ledger, 2, queue)
        _decide(run, items[2], "veto", "written after the last step committed")

        rebuilt = ReviewQueue.from_ledger(ReviewConfig(), ledger, run)
    assert rebuilt.vetoed == {_task(0).key()} and rebuilt.backlog == 2
    assert rebuilt.inbox_offset == queue.inbox_offset < inbox_path(run).stat().st_size
    buffers: BufferSet[Task] = BufferSet({"deduction": 8})
    buffers.add(_task(0), {"step": 0})
    rebuilt.apply_vetoes(buffers)
    assert len(buffers.buffer("deduction")) == 0, "a checkpoint older than the veto must not bring the task back"
    assert rebuilt.ingest(buffers) == 1, "only the decision the ledger has not seen is read"
    [(_, payload)] = rebuilt.drain_records()
    assert payload["item_id"] == items[2] and payload["status"] == "accepted"
    assert rebuilt.vetoed == {_task(0).key(), _task(2).key()}


def test_a_run_pauses_on_its_backlog_and_applies_a_veto_after_resume(tmp_path: Path, monkeypatch) -> None:
    """The stub engine drives the real loop: every new task is queued, one is vetoed while paused."""
    monkeypatch.setattr(trainer_module, "Engine", StubEngine)
    config = load_run_config(preset="smoke", overrides=[
        "steps=3", "oversight.auditor.enabled=false", "oversight.review.sample_rate=1.0",
        "oversight.review.pause_backlog=1",
    ])
    run = RunDir.create(tmp_path / "run", config)
    first = Trainer(config, run, resume=False, engine=StubEngine()).train()
    assert first.exit_code == PAUSE_EXIT_CODE and first.last_step == 1
    assert "pause_backlog=1" in first.oversight.reason
    with Ledger.open(run.path, readonly=True) as ledger:
        items = [r.payload for r in ledger.records(kind=ITEM_KIND)]
        metrics = [r.payload for r in ledger.records(kind="step_metrics")]
    assert items and metrics[-1]["review/backlog"] == len(items) > 1
    assert metrics[-1]["review/queued"] == sum(1 for i in items if i["step"] == 1)
    target = next(i for i in items if i["role"] == "propose" and i["step"] == 1 and i["task_key"])
    for item in items:
        _decide(run.path, item["item_id"], "veto" if item is target else "approve")
    with Ledger.open(run.path) as ledger:
        acknowledge(run.path, "every queued item was reviewed by hand", ledger)

    second = Trainer.resume_from(run.path).train()
    assert second.first_step == 2
    with Ledger.open(run.path, readonly=True) as ledger:
        assert ledger.verify().ok
        decisions = [r for r in ledger.records(kind=DECISION_KIND)]
        metrics = [r.payload for r in ledger.records(kind="step_metrics")]
    assert {r.step for r in decisions} == {2} and all(r.payload["status"] == "accepted" for r in decisions)
    assert len(decisions) == len(items) and metrics[-1]["review/vetoed"] == 1.0
    state = json.loads((run.checkpoints()[-1][1] / STATE).read_text())
    kept = {task_from_dict(e["item"]).key() for buf in state["buffers"].values() for e in buf["entries"]}
    assert target["task_key"] not in kept
