"""Trainer ranks over torch.distributed: one controller (rank 0) and followers that join its updates.

A single controller, as in veRL: rank 0 runs the whole self-play loop (generation, executor,
ledger, checkpoints) and is the only rank that samples or writes. Ranks above 0 build the
same :class:`~azr.engine.Engine` with the same :class:`RankGroup` and call :func:`follow`:
they wait for the controller's commands and take part in each policy update, whose
micro-batches are split across the ranks (see :mod:`azr.engine.update`).

Launch with ``torchrun --nproc_per_node N`` (or Ray, which sets the same variables):
:func:`init_ranks` reads ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
``MASTER_PORT`` and returns None for a plain one-process run, which then takes exactly
today's code path.

Why commands are announced through the rendezvous store rather than a bare broadcast: a
follower waits for as long as the controller's generation and execution take, which can
be longer than any collective timeout; polling the store has no deadline, and it fails at
once if the process holding the store goes away.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import torch
import torch.distributed as dist

from azr.engine.hardware import resolve_device
from azr.errors import AzrError, ConfigError

if TYPE_CHECKING:
    from azr.engine.config import EngineConfig
    from azr.engine.engine import Engine
    from azr.engine.types import TrainSample

log = logging.getLogger(__name__)

_COMMAND_KEY = "azr/command/"
_POLL_SECONDS = 0.05
_UPDATE, _STOP, _ENGINE = "update", "stop", "engine"


class RankLaunchError(ConfigError):
    """The launch variables are wrong, or the ranks could not reach each other."""


class ControllerLostError(AzrError):
    """A follower lost the controller (rank 0) while waiting for its next command."""


@dataclass(frozen=True)
class LaunchEnv:
    """Where this process sits in the launch, as torchrun (or Ray) told it."""

    rank: int
    world_size: int
    local_rank: int
    master_addr: str
    master_port: int


def launch_env(environ: Mapping[str, str] | None = None) -> LaunchEnv | None:
    """The launch variables, checked; None when the process was not started as one of several ranks."""
    environ = os.environ if environ is None else environ
    if "RANK" not in environ and "WORLD_SIZE" not in environ:
        return None
    missing = [name for name in ("RANK", "WORLD_SIZE") if name not in environ]
    if missing:
        raise RankLaunchError(
            f"{' and '.join(missing)} is not set but {'RANK' if 'RANK' in environ else 'WORLD_SIZE'} is: "
            "launch with torchrun --nproc_per_node N, or unset both for one process"
        )
    rank, world_size = _integer(environ, "RANK"), _integer(environ, "WORLD_SIZE")
    local_rank = _integer(environ, "LOCAL_RANK") if "LOCAL_RANK" in environ else rank
    if world_size < 1 or not 0 <= rank < world_size:
        raise RankLaunchError(f"RANK={rank} with WORLD_SIZE={world_size}: RANK must be in 0..WORLD_SIZE-1")
    if world_size == 1:
        return LaunchEnv(rank, 1, local_rank, environ.get("MASTER_ADDR", ""), 0)
    missing = [name for name in ("MASTER_ADDR", "MASTER_PORT") if not environ.get(name)]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise RankLaunchError(
            f"WORLD_SIZE={world_size} but {' and '.join(missing)} {verb} not set: every rank needs rank 0's "
            "address and a free port (torchrun sets both)"
        )
    return LaunchEnv(rank, world_size, local_rank, environ["MASTER_ADDR"], _integer(environ, "MASTER_PORT"))


def _integer(environ: Mapping[str, str], name: str) -> int:
    try:
        return int(environ[name])
    except ValueError:
        raise RankLaunchError(f"{name}={environ[name]!r} is not an integer") from None


@dataclass
class RankGroup:
    """This process's place among the trainer ranks, and the collectives the update uses.

    Object collectives pickle on the CPU, so tensors in them are moved to the CPU first
    (a CUDA tensor would otherwise unpickle onto the sender's device index).
    """

    rank: int
    world_size: int
    device: torch.device
    store: dist.Store | None = field(default=None, repr=False)
    commands_sent: int = 0

    @property
    def is_controller(self) -> bool:
        return self.rank == 0

    def broadcast_object(self, obj: Any = None) -> Any:
        """Rank 0's ``obj`` on every rank."""
        holder = [obj if self.is_controller else None]
        dist.broadcast_object_list(holder, src=0, device=self._object_device())
        return holder[0]

    def all_gather_object(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, in rank order."""
        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, obj)
        return gathered

    def broadcast_tensor(self, tensor: torch.Tensor) -> torch.Tensor:
        """Rank 0's values in ``tensor`` on every rank, in place; returns it."""
        dist.broadcast(tensor, src=0)
        return tensor

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over the ranks, in place; returns it."""
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def _object_device(self) -> torch.device:
        return self.device if dist.get_backend() == "nccl" else torch.device("cpu")

    def send_update(self, samples: Sequence[TrainSample]) -> None:
        """Controller: have every follower join the update of ``samples`` that rank 0 starts next."""
        self.send((_UPDATE, list(samples)))

    def send(self, command: tuple[str, Any]) -> None:
        """Controller: announce ``command`` in the store, then broadcast it to the followers."""
        self.commands_sent += 1
        self._store().set(f"{_COMMAND_KEY}{self.commands_sent}", command[0])
        self.broadcast_object(command)

    def receive(self) -> tuple[str, Any]:
        """Follower: wait, with no deadline, for the controller's next command."""
        self.commands_sent += 1
        key = f"{_COMMAND_KEY}{self.commands_sent}"
        try:
            while not self._store().check([key]):
                time.sleep(_POLL_SECONDS)
        except dist.DistError as exc:
            raise ControllerLostError(
                f"rank {self.rank} lost the rendezvous store while waiting for command {self.commands_sent} "
                f"({exc}); the controller (rank 0) has probably failed: see its log"
            ) from exc
        return self.broadcast_object()

    def _store(self) -> dist.Store:
        if self.store is None:
            raise RankLaunchError("this RankGroup has no store: build it with init_ranks")
        return self.store


def init_ranks(
    device: str = "auto",
    rendezvous_timeout: float = 300.0,
    collective_timeout: float = 1800.0,
    environ: Mapping[str, str] | None = None,
) -> RankGroup | None:
    """Join the other ranks and start the process group; None for a plain one-process run.

    ``device`` is the engine's ``engine.device``: gloo on the CPU, nccl on CUDA (each rank on
    ``cuda:LOCAL_RANK``). ``rendezvous_timeout`` bounds how long the ranks wait for each other
    at the start, so a wrong WORLD_SIZE or an unreachable MASTER_ADDR is an error, not a hang;
    ``collective_timeout`` bounds each collective inside an update.
    """
    env = launch_env(environ)
    if env is None or env.world_size == 1:
        return None
    resolved = resolve_device(device)
    if resolved.type == "cuda":
        torch.cuda.set_device(env.local_rank)
        resolved = torch.device("cuda", env.local_rank)
    backend = "nccl" if resolved.type == "cuda" else "gloo"
    url = f"tcp://{env.master_addr}:{env.master_port}"
    try:
        store, _, _ = next(dist.rendezvous(url, env.rank, env.world_size, timeout=timedelta(seconds=rendezvous_timeout)))
    except (dist.DistError, RuntimeError) as exc:
        raise RankLaunchError(
            f"rank {env.rank} of {env.world_size} could not meet the other ranks at {env.master_addr}:"
            f"{env.master_port} within {rendezvous_timeout:g} s ({exc}); start all WORLD_SIZE processes with the "
            "same MASTER_ADDR and MASTER_PORT (torchrun --nproc_per_node N does), or unset RANK and WORLD_SIZE"
        ) from exc
    store.set_timeout(timedelta(seconds=collective_timeout))
    dist.init_process_group(
        backend,
        store=dist.PrefixStore("default_pg", store),
        rank=env.rank,
        world_size=env.world_size,
        timeout=timedelta(seconds=collective_timeout),
    )
    log.info("rank %d of %d joined (%s on %s)", env.rank, env.world_size, backend, resolved)
    return RankGroup(env.rank, env.world_size, resolved, store)


def follow(engine: Engine, group: RankGroup) -> int:
    """Follower: take part in the controller's updates until it says stop; returns the updates done.

    The engine must be built like the controller's (same config, same weights, with ``group``).
    """
    if group.is_controller:
        raise RankLaunchError("follow() runs on ranks above 0; rank 0 is the controller and runs the loop")
    done = 0
    while True:
        name, payload = group.receive()
        if name == _STOP:
            dist.barrier()
            log.info("rank %d stops after %d updates", group.rank, done)
            return done
        if name != _UPDATE:
            raise RankLaunchError(f"rank {group.rank} got an unknown command {name!r} from the controller")
        engine.update(payload)
        done += 1


def announce_engine(group: RankGroup, checkpoint: Path | None) -> None:
    """Controller: have the followers build their engine as rank 0 is about to, from ``checkpoint`` or the config.

    Rank 0 alone decides what a run starts from (a new run, its newest intact checkpoint, a
    set-up that starts over), so the followers never guess; the directory must be one that
    every rank can read.
    """
    group.send((_ENGINE, None if checkpoint is None else str(checkpoint)))


def serve(config: EngineConfig, group: RankGroup) -> int:
    """Follower: build the engine the controller announces, then join its updates until it says stop.

    A controller that stops before it builds an engine (a finished run, a bad setting) sends
    stop first, and the follower leaves at once.
    """
    from azr.engine.engine import Engine

    name, payload = group.receive()
    if name == _STOP:
        dist.barrier()
        return 0
    if name != _ENGINE:
        raise RankLaunchError(f"rank {group.rank} expected the controller's engine, got command {name!r}")
    engine = Engine.from_checkpoint(payload, config, group) if payload else Engine.from_config(config, group)
    return follow(engine, group)


def stop_followers(group: RankGroup) -> None:
    """Controller: end every follower's :func:`follow`, and wait until all have left it."""
    group.send((_STOP, None))
    dist.barrier()


def shutdown(group: RankGroup | None) -> None:
    """End the ranks cleanly: the controller stops the followers, then every rank leaves the group.

    Call it on every rank (the controller in a ``finally``; a follower after :func:`follow`).
    """
    if group is None:
        return
    if group.is_controller:
        stop_followers(group)
    dist.destroy_process_group()
