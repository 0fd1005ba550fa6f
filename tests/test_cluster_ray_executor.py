"""Sandbox actors on a simulated two-node Ray cluster (two raylets on loopback, one machine).

The actors run the real executor with every layer this host has; the cluster is real Ray,
only its nodes share a kernel.
"""

from __future__ import annotations

import threading
import time

import pytest

from azr.cluster.config import ClusterConfig
from azr.cluster.ray_executor import NodeSandbox, RayExecutorGroup, UnconfinedNodeError, refuse_unconfined
from azr.errors import ConfigError
from azr.executor import Executor, ExecutorConfig, LayerStatus, Snippet

ray = pytest.importorskip("ray")

SANDBOX = ExecutorConfig(workers=1, seed_slots=2)


@pytest.fixture(scope="module")
def host_missing_layers():
    with Executor(SANDBOX) as local:
        return [layer.name for layer in local.layers() if not layer.active]


def _group(missing: list[str], **settings) -> RayExecutorGroup:
    return RayExecutorGroup(ray, SANDBOX, ClusterConfig(ray="auto", allow_missing_layers=missing, **settings))


MIXED = [
    Snippet("def f(x):\n    return x * 3", call=f"f({k})", seed_slot=k % 2) for k in range(9)
] + [
    Snippet("import socket\ns = socket.socket()"),
    Snippet("open('/etc/passwd').read()"),
    Snippet("while True:\n    pass", timeout_s=0.5),
    Snippet("raise ValueError('nope')"),
]


def _essence(result):
    return (result.ok, result.value_repr, result.error_type, result.killed_by_limit)


def test_actors_spread_over_both_nodes_and_answer_in_order_like_the_local_pool(two_nodes, host_missing_layers):
    with Executor(SANDBOX) as local:
        expected = [_essence(r) for r in local.run_batch(MIXED)]
    with _group(host_missing_layers) as group:
        assert len({node.node_id for node in group.nodes}) == 2
        got = [_essence(r) for r in group.run_batch(MIXED)]
    assert got == expected
    assert got[:9] == [(True, repr(3 * k), None, None) for k in range(9)]
    # confinement holds on the remote node exactly as here: no socket, no host files, limits
    assert not any(ok for ok, *_ in got[9:])


def test_an_actor_killed_mid_batch_costs_its_shard_a_resend_not_the_batch(two_nodes, host_missing_layers):
    snippets = [Snippet("import time\ntime.sleep(0.4)", call=str(k)) for k in range(8)]
    with _group(host_missing_layers) as group:
        victim = group._members[0]
        killer = threading.Timer(0.8, lambda: ray.kill(victim.handle, no_restart=True))
        killer.start()
        results = group.run_batch(snippets)
        killer.join()
        assert [r.value_repr for r in results] == [str(k) for k in range(8)]
        assert group.replaced == 1
        assert victim not in group._members and len(group._members) == 2
        assert group.run_batch(snippets[:2])[1].value_repr == "1"


def test_with_no_retries_left_the_lost_shard_is_recorded_as_worker_lost(two_nodes, host_missing_layers):
    snippets = [Snippet("import time\ntime.sleep(0.4)", call=str(k)) for k in range(4)]
    with _group(host_missing_layers, retries=0) as group:
        victim = group._members[0]
        threading.Timer(0.5, lambda: ray.kill(victim.handle, no_restart=True)).start()
        results = group.run_batch(snippets)
    lost = [r for r in results if r.error_type == "WorkerLost"]
    kept = [r for r in results if r.ok]
    assert len(lost) == 2 and len(kept) == 2, results
    assert "executor actor lost" in lost[0].error_message


def test_a_group_that_cannot_be_placed_says_which_setting_to_lower(two_nodes, host_missing_layers, monkeypatch):
    monkeypatch.setattr("azr.cluster.ray_executor.START_TIMEOUT_S", 3.0)
    started = time.monotonic()
    with pytest.raises(Exception, match="cluster.executor_cpus"):
        _group(host_missing_layers, executor_workers=1, executor_cpus=64)
    assert time.monotonic() - started < 30


def _node(*inactive: str) -> NodeSandbox:
    names = ["session", "rlimits", "uid", "seccomp"]
    layers = [LayerStatus(name, name not in inactive, "not on this kernel" if name in inactive else "", "x")
              for name in names]
    return NodeSandbox("f" * 56, "worker-3", 42, layers)


def test_a_node_missing_a_layer_is_refused_by_name_unless_that_layer_is_allowed():
    with pytest.raises(UnconfinedNodeError, match=r"worker-3 .*seccomp.*allow_missing_layers=\[seccomp\]"):
        refuse_unconfined(_node("seccomp"), [])
    with pytest.raises(UnconfinedNodeError, match="uid"):
        refuse_unconfined(_node("seccomp", "uid"), ["seccomp"])
    refuse_unconfined(_node("seccomp"), ["seccomp"])
    refuse_unconfined(_node(), [])


def test_cluster_settings_reject_unknown_layers_and_empty_addresses():
    with pytest.raises(ValueError, match="unknown layer"):
        ClusterConfig(allow_missing_layers=["selinux"])
    with pytest.raises(ValueError, match="auto, local"):
        ClusterConfig(ray="  ")
    assert issubclass(UnconfinedNodeError, ConfigError)
