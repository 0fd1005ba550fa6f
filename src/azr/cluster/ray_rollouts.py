"""Rollout workers: copies of the policy in Ray actors, sampling shards of each batch.

The controller keeps the trained policy; after every update it puts one copy of the
weights in Ray's object store (shared memory for the actors on its node, one transfer per
other node) and every worker loads it before sampling again. Prompts are cut into one
contiguous shard per worker, so a prompt's ``n`` completions stay together and the
results come back in prompt order, as the ``RolloutBackend`` contract says. A worker that
dies is replaced, loaded with the latest weights, and its shard sampled again.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from transformers import AutoModelForCausalLM, PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

from azr.cluster.config import ClusterConfig
from azr.engine.backend import Completion
from azr.engine.transformers_backend import TransformersBackend
from azr.engine.types import SamplingParams
from azr.errors import ConfigError

log = logging.getLogger(__name__)

# Apart enough that two shards never draw from overlapping generator streams in practice.
_SHARD_SEED_STRIDE = 1_000_003


class RolloutWorkersError(ConfigError):
    """Rollout workers were asked for in a configuration they cannot serve."""


class RolloutHost:
    """The body of one rollout actor: a randomly initialised copy of the architecture, then real weights."""

    def __init__(self, model_config: PretrainedConfig, tokenizer: PreTrainedTokenizerBase, dtype: torch.dtype,
                 batch_size: int, threads: int) -> None:
        torch.set_num_threads(threads)
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model = AutoModelForCausalLM.from_config(model_config, dtype=dtype).to(device).eval()
        self.backend = TransformersBackend(model, tokenizer, batch_size)

    def ping(self) -> bool:
        return True

    @torch.no_grad()
    def load(self, state: PackedState) -> None:
        self.backend.model.load_state_dict(unpack_state(state), strict=True)

    def generate(self, prompts: Sequence[list[int]], params: SamplingParams) -> list[Completion]:
        return self.backend.generate(prompts, params)


# name -> (raw bytes as a uint8 array, dtype name, shape): numpy arrays cross Ray's object
# store without a copy into actors on the same node, and bf16 has no numpy dtype of its own.
PackedState = dict[str, tuple[np.ndarray, str, tuple[int, ...]]]


def pack_state(module: torch.nn.Module, dtype: torch.dtype) -> PackedState:
    packed = {}
    for name, tensor in module.state_dict().items():
        flat = tensor.detach().to("cpu", dtype).contiguous()
        packed[name] = (flat.view(torch.uint8).numpy(), str(flat.dtype).removeprefix("torch."), tuple(flat.shape))
    return packed


def unpack_state(packed: PackedState) -> dict[str, torch.Tensor]:
    # The store's buffers are read-only; the tensors are only read (load_state_dict copies them).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return {name: torch.from_numpy(raw).view(getattr(torch, dtype)).reshape(shape)
                for name, (raw, dtype, shape) in packed.items()}


@dataclass
class _Worker:
    handle: Any
    number: int


class RayRolloutBackend:
    """A ``RolloutBackend`` over ``cluster.rollout_workers`` actors, each sampling its own shard."""

    def __init__(self, ray: Any, policy: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, dtype: torch.dtype,
                 batch_size: int, cluster: ClusterConfig) -> None:
        if hasattr(policy, "peft_config"):
            raise RolloutWorkersError("cluster.rollout_workers does not carry LoRA adapters yet; set "
                                      "cluster.rollout_workers=0 (rollouts in the controller) or train without engine.lora")
        self._ray = ray
        self._cluster = cluster
        self._dtype = dtype
        self._actor = ray.remote(num_cpus=cluster.rollout_cpus, num_gpus=cluster.rollout_gpus,
                                 max_restarts=0)(RolloutHost)
        self._args = (policy.config, tokenizer, dtype, batch_size, cluster.rollout_threads)
        self._weights: Any = None
        self._started = 0
        self.replaced = 0
        self._workers = [self._launch() for _ in range(cluster.rollout_workers)]
        self.sync_weights(policy)

    def __enter__(self) -> RayRolloutBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        workers, self._workers = self._workers, []
        for worker in workers:
            self._ray.kill(worker.handle)

    def suspend(self) -> None:
        """The workers hold no memory of the trainer's; nothing to free during an update."""

    def sync_weights(self, policy: torch.nn.Module) -> None:
        self._weights = self._ray.put(pack_state(policy, self._dtype))
        self._ray.get([worker.handle.load.remote(self._weights) for worker in self._workers])

    def generate(self, prompts: Sequence[list[int]], params: SamplingParams) -> list[Completion]:
        if not prompts:
            return []
        size = -(-len(prompts) // len(self._workers))
        shards = [list(prompts[start : start + size]) for start in range(0, len(prompts), size)]
        outputs: list[list[Completion] | None] = [None] * len(shards)
        pending = {self._submit(self._workers[k % len(self._workers)], shard, params, k): (k, 0)
                   for k, shard in enumerate(shards)}
        while pending:
            ready, _ = self._ray.wait(list(pending), num_returns=1)
            number, attempt = pending.pop(ready[0])
            try:
                outputs[number] = self._ray.get(ready[0])
            except self._ray.exceptions.RayActorError as error:
                if attempt >= self._cluster.retries:
                    raise RolloutWorkersError(
                        f"a rollout shard lost its worker {attempt + 1} time(s) ({type(error).__name__}); "
                        "check the cluster's nodes, or raise cluster.retries"
                    ) from error
                worker = self._replace(error)
                pending[self._submit(worker, shards[number], params, number)] = (number, attempt + 1)
        return [completion for output in outputs for completion in output or []]

    def _submit(self, worker: _Worker, shard: list[list[int]], params: SamplingParams, number: int) -> Any:
        if params.seed is not None:
            params = dataclasses.replace(params, seed=params.seed + number * _SHARD_SEED_STRIDE)
        return worker.handle.generate.remote(shard, params)

    def _launch(self) -> _Worker:
        self._started += 1
        handle = self._actor.options(scheduling_strategy="SPREAD").remote(*self._args)
        return _Worker(handle, self._started)

    def _replace(self, error: BaseException) -> _Worker:
        """Swap every dead worker for a fresh one with the latest weights; return one that answers."""
        alive = []
        for worker in self._workers:
            try:
                self._ray.get(worker.handle.ping.remote())
                alive.append(worker)
            except self._ray.exceptions.RayActorError:
                log.warning("rollout worker %d died (%s); starting a replacement", worker.number, type(error).__name__)
                fresh = self._launch()
                self._ray.get(fresh.handle.load.remote(self._weights))
                self.replaced += 1
                alive.append(fresh)
        self._workers = alive
        return alive[0]
