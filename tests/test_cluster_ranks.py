"""Trainer ranks over torch.distributed: two gloo ranks on loopback, started by torchrun.

One 2-rank run (tests/_ranks_worker.py) is compared with single-process updates of the same
samples in this process: the update, the weights on both ranks, a 2-rank checkpoint resumed
on 1 rank and a 1-rank checkpoint resumed on 2, each against a 1-rank checkpoint resumed on 1.
A tiny random-weight stand-in keeps it fast.
"""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from transformers import PreTrainedTokenizerFast

from _ranks_worker import LORA, config, dump, generation_draws, samples
from _tiny_models import tiny_llama
from azr.cluster.ranks import RankGroup, RankLaunchError, launch_env
from azr.engine import Engine, EngineConfig
from azr.engine.checkpoint import atomic_checkpoint
from azr.engine.errors import RankError
from azr.engine.models import LoadedModel

WORKER = Path(__file__).with_name("_ranks_worker.py")
TOLERANCE = 1e-5


def _tokenizer() -> PreTrainedTokenizerFast:
    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, **{f"w{i}": i + 3 for i in range(94)}}
    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(WordLevel(vocab, unk_token="<unk>")),
        eos_token="<eos>", pad_token="<pad>", unk_token="<unk>",
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    return {**env, "OMP_NUM_THREADS": "1", **extra}


class Run:
    """The single-process reference and the 2-rank run's outputs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.model = root / "model"
        model = tiny_llama()
        model.save_pretrained(self.model)
        _tokenizer().save_pretrained(self.model)
        single = Engine.from_config(config(model=str(self.model)))
        generation_draws()
        self.single_first = single.update(samples(1))
        self.single_first_state = self._state(single, "single_first.pt")
        self.resume_from_one = root / "one-rank-checkpoint"
        with atomic_checkpoint(self.resume_from_one) as staging:
            single.save_checkpoint(staging)
        # Resumed rather than continued: a checkpoint does not hold the KL term's frozen reference,
        # so a resumed engine takes the checkpoint's weights as its reference (true on any number of ranks).
        resumed = Engine.from_checkpoint(self.resume_from_one, config(model=str(self.model)))
        self.single_second = resumed.update(samples(2))
        self.single_second_state = self._state(resumed, "single_second.pt")
        lora = Engine.from_config(config(model=str(self.model), lora=LORA))
        self.single_lora = lora.update(samples(1))
        self.single_lora_state = self._state(lora, "single_lora.pt")

        self.out = root / "ranks"
        self.out.mkdir()
        command = [
            sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
            "--master_port", str(_free_port()), str(WORKER),
            "--model", str(self.model), "--resume", str(self.resume_from_one), "--out", str(self.out),
        ]
        started = time.perf_counter()
        done = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=240)
        self.seconds = time.perf_counter() - started
        assert done.returncode == 0, done.stderr[-4000:]
        self.results = [pickle.loads((self.out / f"results.rank{r}.pkl").read_bytes()) for r in (0, 1)]

    def _state(self, engine: Engine, name: str) -> dict:
        dump(engine, self.root / name)
        return torch.load(self.root / name, weights_only=False)

    def ranks_state(self, which: str, rank: int) -> dict:
        return torch.load(self.out / f"{which}.rank{rank}.pt", weights_only=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    return Run(tmp_path_factory.mktemp("ranks"))


def _max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a)


def _optimizer_diff(a: dict, b: dict) -> float:
    assert a["state"].keys() == b["state"].keys() and a["state"]
    diffs = [0.0]
    for key in a["state"]:
        for name, value in a["state"][key].items():
            diffs.append((value.double() - b["state"][key][name].double()).abs().max().item())
    return max(diffs)


def _assert_same_stats(ranks, single) -> None:
    assert ranks.tokens == single.tokens > 0
    assert ranks.optimizer_steps == single.optimizer_steps == 4
    for name in ("loss", "policy_loss", "kl", "entropy", "clip_fraction", "grad_norm", "sampler_logprob_gap",
                 "sampler_logprob_gap_max"):
        assert getattr(ranks, name) == pytest.approx(getattr(single, name), rel=1e-5, abs=1e-7), name
    assert ranks.advantages == pytest.approx(single.advantages)


def test_one_update_on_two_ranks_equals_the_single_process_update(run):
    first = run.results[0]["first"]
    _assert_same_stats(first, run.single_first)
    # The settings make these non-trivial, so the comparison above can tell a wrong split apart.
    assert first.kl > 0 and first.clip_fraction > 0 and first.grad_norm > 0.5
    weights = run.ranks_state("first", 0)
    assert _max_diff(weights["weights"], run.single_first_state["weights"]) < TOLERANCE
    assert _optimizer_diff(weights["optimizer"], run.single_first_state["optimizer"]) < TOLERANCE
    moved = _max_diff(weights["weights"], {k: v for k, v in tiny_llama().state_dict().items()})
    assert moved > 1e-3


def test_both_ranks_end_with_the_same_weights_and_optimizer_state(run):
    for which in ("first", "second"):
        zero, one = run.ranks_state(which, 0), run.ranks_state(which, 1)
        assert _max_diff(zero["weights"], one["weights"]) == 0.0
        assert _optimizer_diff(zero["optimizer"], one["optimizer"]) == 0.0
    assert run.results[1]["updates"] == 1


def test_a_checkpoint_written_on_two_ranks_resumes_on_one(run):
    checkpoint = run.out / "checkpoint"
    assert (checkpoint / "config.json").is_file() and (checkpoint / "trainer_state.pt").is_file()
    assert not list(run.out.glob("refused*")), "a follower wrote a checkpoint"
    assert "only rank 0" in run.results[1]["save_refused"]
    resumed = Engine.from_checkpoint(checkpoint, config(model=str(run.model)))
    assert resumed.updates == 1
    stats = resumed.update(samples(2))
    _assert_same_stats(stats, run.single_second)
    state = run._state(resumed, "resumed_on_one.pt")
    assert _max_diff(state["weights"], run.single_second_state["weights"]) < TOLERANCE
    assert _optimizer_diff(state["optimizer"], run.single_second_state["optimizer"]) < TOLERANCE


def test_a_checkpoint_written_on_one_rank_resumes_on_two(run):
    _assert_same_stats(run.results[0]["second"], run.single_second)
    weights = run.ranks_state("second", 0)
    assert _max_diff(weights["weights"], run.single_second_state["weights"]) < TOLERANCE
    assert _optimizer_diff(weights["optimizer"], run.single_second_state["optimizer"]) < TOLERANCE


def test_a_lora_update_on_two_ranks_equals_the_single_process_update(run):
    _assert_same_stats(run.results[0]["lora"], run.single_lora)
    zero, one = run.ranks_state("lora", 0), run.ranks_state("lora", 1)
    assert _max_diff(zero["weights"], run.single_lora_state["weights"]) < TOLERANCE
    assert _optimizer_diff(zero["optimizer"], run.single_lora_state["optimizer"]) < TOLERANCE
    assert _max_diff(zero["weights"], one["weights"]) == 0.0


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"RANK": "2", "WORLD_SIZE": "2"}, "RANK must be in 0..WORLD_SIZE-1"),
        ({"RANK": "0"}, "WORLD_SIZE is not set"),
        ({"RANK": "0", "WORLD_SIZE": "two"}, "'two' is not an integer"),
        ({"RANK": "1", "WORLD_SIZE": "2"}, "MASTER_ADDR and MASTER_PORT are not set"),
        ({"RANK": "1", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1"}, "MASTER_PORT is not set"),
    ],
)
def test_wrong_launch_variables_are_named(environ, message):
    with pytest.raises(RankLaunchError, match=message):
        launch_env(environ)


def test_a_plain_process_or_a_single_rank_has_no_group():
    assert launch_env({}) is None
    env = launch_env({"RANK": "0", "WORLD_SIZE": "1"})
    assert env is not None and env.world_size == 1


@pytest.mark.parametrize("rank", ["0", "1"])
def test_a_rank_whose_peers_never_come_fails_within_its_timeout(rank):
    # Rank 0 alone waits for a second rank that was never started; rank 1 alone finds no rank 0.
    code = "from azr.cluster.ranks import init_ranks; init_ranks('cpu', rendezvous_timeout=3)"
    env = _env(RANK=rank, WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=90)
    assert done.returncode != 0
    assert "RankLaunchError" in done.stderr and "could not meet the other ranks" in done.stderr, done.stderr[-2000:]
    assert time.perf_counter() - started < 60


def test_vllm_rollouts_are_refused_with_ranks():
    loaded = LoadedModel(tiny_llama(), _tokenizer(), "tiny")
    group = RankGroup(rank=1, world_size=2, device=torch.device("cpu"))
    with pytest.raises(RankError, match="engine.rollout=transformers"):
        Engine(loaded, EngineConfig(device="cpu", rollout="vllm"), group)
