"""A worker whose own limits, priority or affinity change during a run is replaced.

seccomp refuses every such call a program makes on its worker (see
``test_a_program_cannot_change_its_worker_or_other_processes_of_its_uid``). Here that layer
is switched off by a stub of the layer probe, standing for a kernel or filter that failed,
so the program's attack on its worker succeeds and only the worker's own check is left.
"""

from __future__ import annotations

import dataclasses

import pytest

from azr.executor import Executor, ExecutorConfig, Snippet
from azr.executor import layers as layer_probe

pytestmark = pytest.mark.timeout(120)

_TAMPER = ("import os, resource\n"
           "worker = os.getppid()\n"
           "resource.prlimit(worker, resource.RLIMIT_FSIZE, (1, 1))\n"
           "os.setpriority(os.PRIO_PROCESS, worker, 19)\n"
           "os.sched_setaffinity(worker, {min(os.sched_getaffinity(0))})\n")


@pytest.fixture
def without_seccomp(monkeypatch):
    """Stub of the layer probe: reports seccomp as missing so workers run without it."""
    real = layer_probe.probe

    def probe(config):
        return [dataclasses.replace(layer, active=False) if layer.name == "seccomp" else layer
                for layer in real(config)]

    monkeypatch.setattr(layer_probe, "probe", probe)


def test_a_tampered_worker_returns_its_result_and_is_replaced(without_seccomp):
    with Executor(ExecutorConfig(workers=1, seed_slots=1)) as executor:
        [worker] = executor.worker_pids()
        results = executor.run_batch([
            Snippet(code=_TAMPER, call="'tampered'"),
            Snippet(code="open('big', 'w').write('x' * 100_000)", call="'wrote'"),
            Snippet(code="import os", call="os.getpriority(os.PRIO_PROCESS, 0), len(os.sched_getaffinity(0))"),
        ])
        [replacement] = executor.worker_pids()
        # In a worker that was not replaced, a 100 kB file fails under RLIMIT_FSIZE=1.
        assert [r.value_repr for r in results[:2]] == ["'tampered'", "'wrote'"], results
        assert results[2].value_repr == repr((0, len(__import__("os").sched_getaffinity(0)))), results[2]
        assert replacement != worker
