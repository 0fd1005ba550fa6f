"""Held-out self-play probes: fixed before the first update, recorded, scored greedily, never trained on.

The engine is the stub of ``_stub_engine`` (scripted completions, a counted no-op update);
the loop, the executor, the ledger and the run directory are the real ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _stub_engine import StubEngine
from azr.ledger import Ledger
from azr.selfplay.config import load_run_config
from azr.selfplay.probes import PROBES_FILE, ProbeSet, ProbeSetError
from azr.selfplay.run_dir import RunDir
from azr.selfplay.run_totals import read_step_rows
from azr.selfplay.trainer import Trainer

PROBE_SETTINGS = ["steps=2", "eval.every_n_steps=1", "eval.limit=0", "eval.probe_tasks_per_type=3"]


def _train(path: Path, *extra: str) -> tuple[RunDir, StubEngine]:
    config = load_run_config(preset="smoke", overrides=[*PROBE_SETTINGS, *extra])
    run = RunDir.create(path, config)
    engine = StubEngine()
    Trainer(config, run, resume=False, engine=engine).train()
    return run, engine


@pytest.fixture(scope="module")
def probed_run(tmp_path_factory) -> tuple[RunDir, StubEngine]:
    return _train(tmp_path_factory.mktemp("probes") / "run")


def test_the_probe_set_is_saved_and_its_hashes_are_in_the_ledger(probed_run):
    run, _ = probed_run
    probes = ProbeSet.load(run.path / PROBES_FILE)
    assert 0 < len(probes.tasks) <= 3 * 3
    assert len({t.key() for t in probes.tasks}) == len(probes.tasks)
    with Ledger.open(run.path, readonly=True) as ledger:
        assert ledger.verify().ok
        (record,) = list(ledger.records(kind="probe_set"))
    assert record.payload["digest"] == probes.digest()
    assert [t["task_key"] for t in record.payload["tasks"]] == [t.key() for t in probes.tasks]


def test_probes_are_scored_at_step_zero_and_every_step_on_the_same_set(probed_run):
    run, _ = probed_run
    probes = ProbeSet.load(run.path / PROBES_FILE)
    with Ledger.open(run.path, readonly=True) as ledger:
        evals = list(ledger.records(kind="probe_eval"))
    assert [r.step for r in evals] == [0, 1, 2]
    for record in evals:
        assert record.payload["digest"] == probes.digest()
        assert [r["task_key"] for r in record.payload["results"]] == [t.key() for t in probes.tasks]
    rows = {row["step"]: row for row in read_step_rows(run.metrics_path)}
    assert sorted(rows) == [0, 1, 2]
    for step, record in zip((0, 1, 2), evals):
        correct = [r["correct"] for r in record.payload["results"]]
        assert rows[step]["eval/probe-all/n"] == len(probes.tasks)
        assert rows[step]["eval/probe-all"] == pytest.approx(sum(correct) / len(correct))


def test_probes_are_never_trained_on(probed_run):
    run, engine = probed_run
    with Ledger.open(run.path, readonly=True) as ledger:
        advantages = list(ledger.records(kind="advantage"))
        purposes = {r.payload.get("purpose") for r in ledger.records(kind="attempt")}
    # every sample the engine was given is a trained rollout with an advantage record, and
    # no attempt record is a probe's (probe answers live only in probe_eval records)
    assert engine.samples_seen == len(advantages)
    assert "probe" not in purposes


def test_a_second_run_given_the_probe_file_measures_the_same_probes(probed_run, tmp_path: Path):
    first, _ = probed_run
    second, _ = _train(tmp_path / "second", "seed=5", f"eval.probes_file={first.path / PROBES_FILE}")
    assert ProbeSet.load(second.path / PROBES_FILE).digest() == ProbeSet.load(first.path / PROBES_FILE).digest()


def test_an_edited_probe_file_is_refused_naming_its_line(probed_run, tmp_path: Path):
    run, _ = probed_run
    lines = (run.path / PROBES_FILE).read_text().splitlines()
    task_row, prompt_row = json.loads(lines[0]), json.loads(lines[-1])
    task_row["task"]["pairs"][0]["output"] = "'forged'"
    prompt_row["request"]["prompt"] += " Always answer 1."
    for number, forged in ((1, [json.dumps(task_row), *lines[1:]]), (len(lines), [*lines[:-1], json.dumps(prompt_row)])):
        edited = tmp_path / f"edited-{number}.jsonl"
        edited.write_text("\n".join(forged) + "\n")
        with pytest.raises(ProbeSetError, match=f"line {number}: the probe does not match its stored key"):
            ProbeSet.load(edited)
    (tmp_path / "bad.jsonl").write_text("not json\n")
    with pytest.raises(ProbeSetError, match="line 1 is not a probe record"):
        ProbeSet.load(tmp_path / "bad.jsonl")
    with pytest.raises(ProbeSetError, match="does not exist"):
        ProbeSet.load(tmp_path / "missing.jsonl")


def test_probe_prompts_are_proposed_greedily_and_validated_at_every_eval(probed_run):
    run, engine = probed_run
    probes = ProbeSet.load(run.path / PROBES_FILE)
    assert probes.prompts and set(probes.prompt_counts()) <= {"deduction", "abduction", "induction"}
    with Ledger.open(run.path, readonly=True) as ledger:
        evals = list(ledger.records(kind="probe_eval"))
        (probe_set,) = list(ledger.records(kind="probe_set"))
    assert len(probe_set.payload["prompts"]) == len(probes.prompts)
    rows = {row["step"]: row for row in read_step_rows(run.metrics_path)}
    for record in evals:
        proposed = record.payload["proposals"]
        assert len(proposed) == len(probes.prompts)
        valid = [p["valid"] for p in proposed]
        assert record.payload["valid_rates"]["eval/propose-all"] == pytest.approx(sum(valid) / len(valid))
        assert rows[record.step]["eval/propose-all/n"] == len(probes.prompts)
    # a probe file from before probe prompts existed (task lines only) still loads
    old = run.path.parent / "tasks-only.jsonl"
    old.write_text("".join(line + "\n" for line in (run.path / PROBES_FILE).read_text().splitlines()
                           if '"request"' not in line))
    assert ProbeSet.load(old).tasks == probes.tasks and ProbeSet.load(old).prompts == ()


def test_the_report_plots_the_probe_curves(probed_run):
    from azr.report.snapshot import read_snapshot

    run, _ = probed_run
    points = [p for p in read_snapshot(run.path).evals if p.name == "probe-all"]
    rows = {row["step"]: row for row in read_step_rows(run.metrics_path)}
    assert [(p.step, p.value) for p in points] == [(step, rows[step]["eval/probe-all"]) for step in (0, 1, 2)]
