"""Sandbox pools on every node as Ray actors, behind the loop's one-process ``SnippetRunner``.

Each actor owns a whole :class:`azr.executor.Executor` (its fork-servers, uids, Landlock and
seccomp), so a snippet is confined on a remote node exactly as it is locally; Ray only
carries the snippet's text there and the structured result back. A batch is cut into one
contiguous shard per live actor and put back in order. An actor that dies (its node
lost, its process killed) costs its shard a resend to a replacement, never the step.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from typing import Any, Sequence

from azr.cluster.config import ClusterConfig
from azr.errors import ConfigError
from azr.executor import Executor, ExecutorConfig
from azr.executor.errors import ExecutorError
from azr.executor.types import ExecResult, LayerStatus, Snippet

log = logging.getLogger(__name__)

START_TIMEOUT_S = 120.0


class UnconfinedNodeError(ConfigError):
    """A node's sandbox lacks a layer the run did not allow it to lack."""


@dataclass(frozen=True)
class NodeSandbox:
    """Where one executor actor runs and which sandbox layers are active there."""

    node_id: str
    hostname: str
    pid: int
    layers: list[LayerStatus]

    @property
    def missing(self) -> list[str]:
        return [layer.name for layer in self.layers if not layer.active]


class ExecutorHost:
    """The body of one executor actor: a sandbox pool that lives as long as the actor."""

    def __init__(self, executor_config: dict[str, Any]) -> None:
        self.executor = Executor(ExecutorConfig.model_validate(executor_config))

    def describe(self) -> NodeSandbox:
        import ray

        return NodeSandbox(ray.get_runtime_context().get_node_id(), socket.gethostname(), os.getpid(),
                           self.executor.layers())

    def run_batch(self, snippets: Sequence[Snippet]) -> list[ExecResult]:
        return self.executor.run_batch(snippets)

    def close(self) -> None:
        self.executor.close()


def refuse_unconfined(node: NodeSandbox, allowed: Sequence[str]) -> None:
    """Raise unless every layer this node lacks was explicitly allowed."""
    refused = [name for name in node.missing if name not in allowed]
    if refused:
        reasons = "; ".join(f"{layer.name}: {layer.detail}" for layer in node.layers if layer.name in refused)
        raise UnconfinedNodeError(
            f"node {node.hostname} ({node.node_id[:12]}) lacks sandbox layer(s) {', '.join(refused)} ({reasons}); "
            "fix that node (`azr cluster doctor` shows every node), take it out of the cluster, or accept the "
            f"weaker sandbox with cluster.allow_missing_layers=[{','.join(refused)}]"
        )


@dataclass
class _Member:
    handle: Any
    node: NodeSandbox


class RayExecutorGroup:
    """A ``SnippetRunner`` over ``cluster.executor_workers`` sandbox actors, spread across nodes."""

    def __init__(self, ray: Any, executor: ExecutorConfig, cluster: ClusterConfig) -> None:
        self._ray = ray
        self._executor_config = executor.model_dump(mode="json")
        self._cluster = cluster
        self._actor = ray.remote(num_cpus=cluster.executor_cpus, max_restarts=0)(ExecutorHost)
        self._members: list[_Member] = []
        self.replaced = 0
        handles = [self._launch() for _ in range(cluster.executor_workers)]
        try:
            for handle in handles:
                self._members.append(self._admit(handle))
        except BaseException:
            # A killed actor's fork-servers see their pipe close and exit with it.
            self._members = []
            for handle in handles:
                ray.kill(handle)
            raise
        log.info("executor actors: %s", ", ".join(f"{m.node.hostname}:{m.node.pid}" for m in self._members))

    def __enter__(self) -> RayExecutorGroup:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def nodes(self) -> list[NodeSandbox]:
        return [member.node for member in self._members]

    def layers(self) -> list[LayerStatus]:
        """Each layer as the weakest live node has it: active only where it is active on every node."""
        merged: dict[str, LayerStatus] = {}
        for node in self.nodes:
            for layer in node.layers:
                if layer.name not in merged or not layer.active:
                    merged[layer.name] = layer
        return list(merged.values())

    def run_batch(self, snippets: Sequence[Snippet]) -> list[ExecResult]:
        """One result per snippet, in order; a shard whose actor dies is resent, up to ``cluster.retries`` times."""
        if not snippets:
            return []
        if not self._members:
            raise ExecutorError("every executor actor has died and none could be replaced; check the cluster's nodes")
        size = -(-len(snippets) // len(self._members))
        shards = [(start, list(snippets[start : start + size])) for start in range(0, len(snippets), size)]
        results: list[ExecResult | None] = [None] * len(snippets)
        pending: dict[Any, tuple[int, _Member, int]] = {}
        for number, (_, shard) in enumerate(shards):
            member = self._members[number % len(self._members)]
            pending[member.handle.run_batch.remote(shard)] = (number, member, 0)
        while pending:
            ready, _ = self._ray.wait(list(pending), num_returns=1)
            number, member, attempt = pending.pop(ready[0])
            start, shard = shards[number]
            try:
                results[start : start + len(shard)] = self._ray.get(ready[0])
            except self._ray.exceptions.RayActorError as error:
                self._lose(member, error)
                if attempt >= self._cluster.retries or not self._members:
                    log.warning("a shard of %d snippets lost its actor %d time(s); recorded as WorkerLost",
                                len(shard), attempt + 1)
                    message = f"executor actor lost {attempt + 1} time(s): {type(error).__name__}"
                    results[start : start + len(shard)] = [ExecResult.worker_lost(message) for _ in shard]
                    continue
                target = self._members[(number + attempt + 1) % len(self._members)]
                pending[target.handle.run_batch.remote(shard)] = (number, target, attempt + 1)
        return [r if r is not None else ExecResult.worker_lost("the executor group lost this result") for r in results]

    def close(self) -> None:
        """Stop every actor's sandbox pool, then the actors; safe to call twice."""
        members, self._members = self._members, []
        closing = [member.handle.close.remote() for member in members]
        if closing:
            self._ray.wait(closing, num_returns=len(closing), timeout=30)
        for member in members:
            self._ray.kill(member.handle)

    def _launch(self) -> Any:
        return self._actor.options(scheduling_strategy="SPREAD").remote(self._executor_config)

    def _admit(self, handle: Any) -> _Member:
        """Wait for an actor's sandbox to start, and refuse it if its node is not fully confined."""
        try:
            node = self._ray.get(handle.describe.remote(), timeout=START_TIMEOUT_S)
        except self._ray.exceptions.GetTimeoutError as error:
            self._ray.kill(handle)
            raise ExecutorError(
                f"an executor actor did not start within {START_TIMEOUT_S:.0f}s: no node has "
                f"{self._cluster.executor_cpus} free CPU(s) for it; lower cluster.executor_workers or "
                "cluster.executor_cpus, or add nodes"
            ) from error
        except self._ray.exceptions.RayActorError as error:
            raise ExecutorError(f"an executor actor failed to start its sandbox: {error}") from error
        try:
            refuse_unconfined(node, self._cluster.allow_missing_layers)
        except UnconfinedNodeError:
            self._ray.kill(handle)
            raise
        return _Member(handle, node)

    def _lose(self, member: _Member, error: BaseException) -> None:
        """Drop a dead actor and start one in its place; the group shrinks only if that fails too."""
        if member not in self._members:
            return
        self._members.remove(member)
        log.warning("executor actor on %s (pid %d) died: %s; starting a replacement",
                    member.node.hostname, member.node.pid, type(error).__name__)
        try:
            self._members.append(self._admit(self._launch()))
            self.replaced += 1
        except (ExecutorError, UnconfinedNodeError) as failure:
            log.warning("no replacement executor actor: %s; %d actor(s) remain", failure, len(self._members))
