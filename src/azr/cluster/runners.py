"""The snippet runner a run uses: the local sandbox pool, or sandbox actors across a Ray cluster."""

from __future__ import annotations

import contextlib
from typing import Iterator

from azr.cluster.config import ClusterConfig
from azr.executor import Executor, ExecutorConfig, SnippetRunner


@contextlib.contextmanager
def open_snippet_runner(executor: ExecutorConfig, cluster: ClusterConfig) -> Iterator[SnippetRunner]:
    """Without ``cluster.ray`` this is exactly ``Executor(executor)``, and Ray is never imported."""
    if cluster.ray is None:
        with Executor(executor) as local:
            yield local
        return
    from azr.cluster.ray_executor import RayExecutorGroup
    from azr.cluster.ray_runtime import ray_session

    with ray_session(cluster.ray) as ray, RayExecutorGroup(ray, executor, cluster) as group:
        yield group
