"""What a run's controller works through: the local sandbox pool, or actors across a Ray cluster."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Iterator

from azr.cluster.config import ClusterConfig
from azr.executor import Executor, ExecutorConfig, SnippetRunner

if TYPE_CHECKING:
    from azr.engine import Engine


@contextlib.contextmanager
def open_workers(executor: ExecutorConfig, cluster: ClusterConfig, engine: Engine) -> Iterator[SnippetRunner]:
    """Yield the run's snippet runner; with rollout workers, the engine samples through them meanwhile.

    Without ``cluster.ray`` this is exactly ``Executor(executor)``: Ray is never imported and
    the engine keeps its own sampler.
    """
    if cluster.ray is None:
        with Executor(executor) as local:
            yield local
        return
    from azr.cluster.ray_executor import RayExecutorGroup
    from azr.cluster.ray_runtime import ray_session

    with contextlib.ExitStack() as stack:
        ray = stack.enter_context(ray_session(cluster.ray))
        group = stack.enter_context(RayExecutorGroup(ray, executor, cluster))
        if cluster.rollout_workers:
            from azr.cluster.ray_rollouts import RayRolloutBackend, RolloutWorkersError

            if engine.config.rollout != "transformers":
                raise RolloutWorkersError(
                    f"cluster.rollout_workers runs the transformers sampler in each actor, not engine.rollout="
                    f"{engine.config.rollout}; set engine.rollout=transformers or cluster.rollout_workers=0"
                )
            rollouts = stack.enter_context(RayRolloutBackend(
                ray, engine.policy, engine.tokenizer, engine.dtype, engine.rollout_batch_size, cluster
            ))
            stack.enter_context(engine.rollouts_through(rollouts))
        yield group
