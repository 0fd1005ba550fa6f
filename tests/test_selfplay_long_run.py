"""Many steps through the real loop, executor and ledger, with a stub engine (no model).

Tests of three steps hid a crash at step ten: tripwire canaries are due every N steps, and
their attempts reached the ledger's advantage pairing. This runs twelve steps with canaries
every three, kills the trainer with SIGKILL mid-run, resumes it and reads the ledger back.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from azr.ledger import Ledger
from azr.selfplay.run_totals import read_step_rows

SCRIPT = Path(__file__).with_name("_stub_run.py")
STEPS = 12
TRIPWIRE_EVERY = 3
SETTINGS = [f"oversight.tripwires.every_n_steps={TRIPWIRE_EVERY}", "checkpoint_every=4", "seed=3"]


def _last_step(run_dir: Path) -> int:
    if not (run_dir / "ledger.sqlite").exists() or not (run_dir / "run.json").exists():
        return -1
    try:
        with Ledger.open(run_dir, readonly=True) as ledger:
            return ledger.last_complete_step() or 0
    except Exception:  # the writer may be mid-transaction; try again
        return -1


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("long") / "run"
    first = subprocess.Popen([sys.executable, str(SCRIPT), "new", str(run_dir), str(STEPS), *SETTINGS],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while _last_step(run_dir) < 6:
        assert first.poll() is None, first.stderr.read().decode()[-3000:]
        assert time.monotonic() < deadline, "the stub run made no progress"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = _last_step(run_dir)
    second = subprocess.run([sys.executable, str(SCRIPT), "resume", str(run_dir)], capture_output=True, timeout=300)
    assert second.returncode == 0, second.stderr.decode()[-3000:]
    return run_dir, killed_at


def test_the_run_reaches_its_last_step_after_a_kill(killed_and_resumed):
    run_dir, killed_at = killed_and_resumed
    assert 6 <= killed_at < STEPS
    with Ledger.open(run_dir, readonly=True) as ledger:
        assert ledger.verify().ok
        assert ledger.last_complete_step() == STEPS
        (resume,) = list(ledger.records(kind="resume"))
        rewinds = list(ledger.records(kind="rewind"))
    # checkpoints every 4 steps: the resume starts from the last one before the kill, and the
    # steps recorded after it are rewound (kept in the ledger, their updates lost)
    checkpoint = resume.payload["checkpoint_step"]
    assert checkpoint in (4, 8) and checkpoint <= killed_at
    if checkpoint < killed_at:
        (rewind,) = rewinds
        assert rewind.payload["discarded_steps"] == list(range(checkpoint + 1, killed_at + 1))
    else:
        assert rewinds == []


def test_tripwire_canaries_are_posed_every_third_step_and_never_trained(killed_and_resumed):
    run_dir, _ = killed_and_resumed
    with Ledger.open(run_dir, readonly=True) as ledger:
        attempts = list(ledger.records(kind="attempt"))
        advantages = list(ledger.records(kind="advantage"))
    canary_steps = {a.step for a in attempts if a.payload["purpose"].startswith("tripwire")}
    assert canary_steps == set(range(TRIPWIRE_EVERY, STEPS + 1, TRIPWIRE_EVERY))
    trained_ids = {a.payload["record_id"] for a in advantages}
    assert not trained_ids & {a.id for a in attempts if a.payload["purpose"] != "train"}


def test_every_trained_rollout_has_exactly_its_own_advantage(killed_and_resumed):
    run_dir, _ = killed_and_resumed
    with Ledger.open(run_dir, readonly=True) as ledger:
        by_id = {r.id: r for r in ledger.records()}
    advantages = [r for r in by_id.values() if r.kind == "advantage"]
    pointed = Counter(a.payload["record_id"] for a in advantages)
    trained = [r for r in by_id.values()
               if (r.kind == "proposal" and r.payload["phase"] == "train")
               or (r.kind == "attempt" and r.payload["purpose"] == "train")]
    assert set(pointed) == {r.id for r in trained}
    assert set(pointed.values()) == {1}
    for advantage in advantages:
        target = by_id[advantage.payload["record_id"]]
        assert target.step == advantage.step
        assert target.payload["reward"] == pytest.approx(advantage.payload["reward"])
        assert advantage.payload["group"].split(".")[0] == target.payload["task_type"]


def test_each_steps_counts_match_its_ledger_records(killed_and_resumed):
    run_dir, _ = killed_and_resumed
    rows = {row["step"]: row for row in read_step_rows(run_dir / "metrics.jsonl")}
    with Ledger.open(run_dir, readonly=True) as ledger:
        records = list(ledger.records())
    # a rewound step was recorded twice under one number; the other steps once
    rewound = {s for r in records if r.kind == "rewind" for s in r.payload["discarded_steps"]}
    expected: Counter = Counter()
    for r in records:
        if r.kind == "proposal" and r.payload["phase"] == "train":
            expected[r.step, "proposed", r.payload["task_type"]] += 1
            expected[r.step, "valid", r.payload["task_type"]] += r.payload["valid"]
        elif r.kind == "attempt" and r.payload["purpose"] == "train":
            expected[r.step, "attempts", r.payload["task_type"]] += 1
            expected[r.step, "solved", r.payload["task_type"]] += r.payload["correct"]
    checked = 0
    for (step, kind, task_type), count in expected.items():
        if step not in rewound and (step, "proposed", task_type) in expected:
            assert rows[step][f"count/{kind}/{task_type}"] == count, (step, kind, task_type)
            checked += 1
    assert checked >= 4 * (STEPS - 4)


def test_each_steps_buffer_sizes_are_those_after_its_new_tasks_join(killed_and_resumed):
    run_dir, _ = killed_and_resumed
    rows = {row["step"]: row for row in read_step_rows(run_dir / "metrics.jsonl")}
    with Ledger.open(run_dir, readonly=True) as ledger:
        records = list(ledger.records())
    (rewind,) = [r for r in records if r.kind == "rewind"] or [None]
    lost = set(rewind.payload["discarded_steps"]) if rewind else set()
    # a task recorded by a step the rewind discarded never reached the resumed run's buffers
    live = [r for r in records if r.kind == "task" and not (rewind and r.id < rewind.id and r.step in lost)]
    joined: dict[str, set[str]] = {}
    checked = 0
    for step in range(STEPS + 1):
        for r in live:
            if r.step == step:
                task = r.payload["task"]
                joined.setdefault(task["task_type"], set()).add(json.dumps(task, sort_keys=True))
        if step in rows and step not in lost:
            for task_type, keys in joined.items():
                assert rows[step][f"buffer/{task_type}"] == len(keys), (step, task_type)
                checked += 1
    assert checked >= 3 * (STEPS - 4)
