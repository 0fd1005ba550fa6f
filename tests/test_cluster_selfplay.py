"""The real loop with its sandboxes on a simulated two-node Ray cluster, against the same run in one process."""

from __future__ import annotations

from collections import Counter

import pytest
from typer.testing import CliRunner

from azr.cli.main import app
from azr.ledger import Ledger
from azr.selfplay.config import load_run_config
from azr.selfplay.trainer import Trainer

ray = pytest.importorskip("ray")

SMOKE = ["steps=1", "seed=3"]


def _structure(run_dir):
    """Per record kind: how many, and the payload keys they carry."""
    with Ledger.open(run_dir, readonly=True) as ledger:
        assert ledger.verify().ok
        records = list(ledger.records())
    counts = Counter(record.kind for record in records)
    keys = {record.kind: sorted(record.payload) for record in records}
    return counts, keys, [r.payload["valid"] for r in records if r.kind == "proposal"]


@pytest.mark.model
def test_a_smoke_run_on_the_cluster_records_what_the_one_process_run_records(two_nodes, tmp_path):
    with_ray = load_run_config(preset="smoke", overrides=[*SMOKE, "cluster.ray=auto", "cluster.executor_workers=2",
                                                            "executor.workers=1"])
    alone = load_run_config(preset="smoke", overrides=[*SMOKE, "executor.workers=1"])
    Trainer.new(with_ray, tmp_path / "ray").train()
    Trainer.new(alone, tmp_path / "alone").train()
    counts, keys, valid = _structure(tmp_path / "ray")
    alone_counts, alone_keys, alone_valid = _structure(tmp_path / "alone")
    assert counts["proposal"] > 0 and counts["attempt"] > 0
    assert keys == alone_keys
    assert counts == alone_counts
    # the same seed samples the same programs, and two sandboxes on two nodes judge them as one here does
    assert valid == alone_valid


def test_cluster_doctor_lists_both_nodes_with_their_sandbox_layers(two_nodes):
    result = CliRunner().invoke(app, ["cluster", "doctor", "--ray", "auto",
                                      *[f"--allow-missing={name}" for name in _host_missing()]])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "2 node(s)" in result.output
    assert result.output.count(" ok") >= 2


def test_cluster_doctor_exits_1_when_a_node_would_be_refused(two_nodes, monkeypatch):
    from azr.cluster import doctor

    def weakened(ray_module, executor):
        reports = real(ray_module, executor)
        first = reports[0]
        layers = [type(layer)(layer.name, False if layer.name == "seccomp" else layer.active, "off", layer.blocks)
                  for layer in first.sandbox.layers]
        sandbox = type(first.sandbox)(first.sandbox.node_id, first.sandbox.hostname, first.sandbox.pid, layers)
        return [type(first)(**{**first.__dict__, "sandbox": sandbox}), *reports[1:]]

    real = doctor.examine
    monkeypatch.setattr(doctor, "examine", weakened)
    result = CliRunner().invoke(app, ["cluster", "doctor", "--ray", "auto"])
    assert result.exit_code == 1, result.output
    assert "refused" in result.output and "seccomp" in result.output


def _host_missing() -> list[str]:
    from azr.executor import Executor, ExecutorConfig

    with Executor(ExecutorConfig(workers=1, seed_slots=1)) as local:
        return [layer.name for layer in local.layers() if not layer.active]


@pytest.mark.model
def test_azr_train_with_ray_rollout_workers_runs_a_step_and_records_it(two_nodes, tmp_path, monkeypatch):
    from azr.cluster.ray_rollouts import RayRolloutBackend

    batches = []
    generate = RayRolloutBackend.generate
    monkeypatch.setattr(RayRolloutBackend, "generate",
                        lambda self, prompts, params: batches.append(len(prompts)) or generate(self, prompts, params))
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "--preset", "smoke", "--steps", "1", "--run-dir", str(run_dir),
                                      "--ray", "auto", "cluster.rollout_workers=2", "executor.workers=1"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    counts, keys, _ = _structure(run_dir)
    assert counts["proposal"] > 0 and counts["attempt"] > 0 and counts["step_metrics"] == 1
    config = load_run_config(path=run_dir / "config.yaml")
    assert (config.cluster.ray, config.cluster.rollout_workers) == ("auto", 2)
    assert len(batches) >= 2  # proposals and solutions were both sampled by the workers
