"""The ``cluster`` section of a run: where Ray is, and how many workers of each kind to place."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from azr.config import StrictModel
from azr.executor.config import LayerNames


class ClusterConfig(StrictModel):
    """Unset ``ray`` keeps the run in one process, exactly as without this section.

    ``ray`` is ``auto`` (join the cluster this machine belongs to, as ``ray start`` left it),
    ``local`` (start a private one-node cluster for this run), or an address such as
    ``ray://head:10001`` or ``10.0.0.5:6379``. Every executor worker is one Ray actor that
    owns a full sandbox pool (``executor.*`` sizes each pool); every rollout worker is one
    actor with a copy of the policy. A node whose sandbox lacks a
    layer is refused unless that layer is named in ``allow_missing_layers``: a model that is
    rewarded for escaping checks must not be sent to the weakest machine in the cluster.
    """

    ray: str | None = Field(None, description="auto, local, or a Ray address; unset: one process.")
    executor_workers: int = Field(2, ge=1, le=1024, description="Sandbox pools, one Ray actor each.")
    executor_cpus: float = Field(1.0, gt=0, description="CPUs Ray reserves for each executor actor.")
    rollout_workers: int = Field(
        0, ge=0, le=1024, description="Policy copies sampling in Ray actors; 0: the controller's engine samples."
    )
    rollout_cpus: float = Field(1.0, gt=0, description="CPUs Ray reserves for each rollout actor.")
    rollout_gpus: float = Field(0.0, ge=0, description="GPUs Ray reserves for each rollout actor.")
    rollout_threads: int = Field(1, ge=1, description="torch threads in each rollout actor.")
    retries: int = Field(2, ge=0, le=10, description="Times a shard (snippets or prompts) is resent after its actor died.")
    allow_missing_layers: LayerNames = Field(
        default_factory=list, description="Sandbox layers a node may lack and still take snippets (opt-in)."
    )


    @field_validator("ray")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("is empty; use auto, local, or a Ray address such as 10.0.0.5:6379")
        return value

    @model_validator(mode="after")
    def _rollouts_need_ray(self) -> ClusterConfig:
        if self.rollout_workers and self.ray is None:
            raise ValueError("cluster.rollout_workers needs a Ray cluster: set cluster.ray (auto, local or an address)")
        return self
