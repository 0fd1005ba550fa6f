"""``azr cluster doctor``'s findings: every node, and the sandbox layers really active on it.

The layers are probed by starting the real sandbox pool on each node (one executor actor
pinned there), not by asking the node about its kernel, so a node passes only if snippets
sent to it would run confined.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from azr.cluster.ray_executor import START_TIMEOUT_S, ExecutorHost, NodeSandbox
from azr.executor import ExecutorConfig


@dataclass(frozen=True)
class NodeReport:
    """One node as Ray lists it, with its sandbox (or why none started there)."""

    node_id: str
    address: str
    cpus: float
    gpus: float
    memory_gib: float
    sandbox: NodeSandbox | None
    error: str | None

    def refused(self, allowed: Sequence[str]) -> list[str]:
        """The layers that keep this node out of a run (all of them if no sandbox started)."""
        if self.sandbox is None:
            return ["sandbox"]
        return [name for name in self.sandbox.missing if name not in allowed]


def examine(ray: Any, executor: ExecutorConfig) -> list[NodeReport]:
    """Start one single-worker sandbox on every live node and read its layers."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    probe = ray.remote(num_cpus=0)(ExecutorHost)
    settings = executor.model_copy(update={"workers": 1, "seed_slots": 1}).model_dump(mode="json")
    nodes = [node for node in ray.nodes() if node.get("Alive")]
    handles = [
        probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)).remote(settings)
        for node in nodes
    ]
    reports = []
    for node, handle in zip(nodes, handles):
        sandbox, error = None, None
        try:
            sandbox = ray.get(handle.describe.remote(), timeout=START_TIMEOUT_S)
        except Exception as failure:  # whatever stopped the sandbox on that node is the finding
            error = f"{type(failure).__name__}: {failure}".splitlines()[0]
        finally:
            ray.kill(handle)
        resources = node.get("Resources", {})
        reports.append(NodeReport(
            node_id=node["NodeID"], address=node.get("NodeManagerAddress", "?"), cpus=resources.get("CPU", 0.0),
            gpus=resources.get("GPU", 0.0), memory_gib=resources.get("memory", 0.0) / 2**30,
            sandbox=sandbox, error=error,
        ))
    return reports
