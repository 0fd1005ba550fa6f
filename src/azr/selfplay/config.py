"""The run's configuration: one typed tree, named presets, YAML files and CLI overrides.

Presets carry the numbers that matter for a run's size. ``paper`` holds the Absolute Zero
paper's values; ``cpu-small`` is sized so a step takes a minute or three on 2 CPU cores
with the default model; ``cpu`` is cpu-small with a learning rate for that model and held-out
probes (docs/learning.md); ``smoke`` exists so the tests can run the real loop quickly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from azr.cluster.config import ClusterConfig
from azr.config import StrictModel, build_config, deep_merge
from azr.engine import EngineConfig
from azr.executor import ExecutorConfig
from azr.oversight import OversightConfig
from azr.selfplay.reward_mix import RewardMixConfig
from azr.selfplay.rewards import RewardScheme
from azr.selfplay.verifier_faults import VerifierFaultsConfig
from azr.tasks.config import TasksConfig


class SamplingSettings(StrictModel):
    """Sampling for one role. Learnability rollouts must be sampled, so temperature > 0."""

    temperature: float = Field(1.0, gt=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_new_tokens: int = Field(512, ge=8)
    stop: list[str] = Field(
        ["</answer>"],
        description="end a completion at the first of these (kept in it); a reply has one answer block, so nothing "
        "after its close is parsed, and without a stop small models fill the token budget",
    )


class SelfPlayConfig(StrictModel):
    """The sizes of one self-play step, named as in the paper where it names them."""

    task_types: list[str] = ["deduction", "abduction", "induction"]
    proposals_per_type: int = Field(64, ge=1, description="B: proposer prompts per task type and step")
    solves_per_type: int = Field(64, ge=1, description="solver prompts per task type and step")
    references: int = Field(6, ge=0, description="K: reference tasks shown in each proposer prompt")
    learnability_rollouts: int = Field(8, ge=2, description="n: solver rollouts that estimate a proposal's solve rate")
    buffer_capacity: int = Field(4096, ge=1)
    seed_tasks_per_type: int = Field(64, ge=1, description="the seeding stage stops once each buffer holds this many")
    max_seeding_rounds: int = Field(20, ge=0)
    reward_scheme: RewardScheme = Field(
        "reference",
        description="reference: the public AZR code's rewards (invalid proposal -1, valid but always/never solved "
        "-0.5), which produced the published numbers; equations: the paper's eq. 4-6 (-0.5 and 0)",
    )
    rewards: RewardMixConfig = RewardMixConfig()
    verifier_faults: VerifierFaultsConfig = VerifierFaultsConfig()
    proposer: SamplingSettings = SamplingSettings()
    solver: SamplingSettings = SamplingSettings()


class InTrainingEvalConfig(StrictModel):
    """Held-out measures scored greedily at step 0 and every N steps (0 turns evaluation off).

    Two kinds: a fixed CRUXEval-O/I subset, and self-play probes (tasks the base model
    proposed with their own seed before training, never put in a buffer or trained on).
    """

    every_n_steps: int = Field(0, ge=0)
    limit: int = Field(16, ge=0, description="CRUXEval items of each benchmark, the same ones every time; 0 skips it")
    data_dir: Path | None = Field(None, description="benchmark data; AZR_DATA_DIR when unset")
    probe_tasks_per_type: int = Field(0, ge=0, description="self-play probes per task type; 0 runs without them")
    probe_seed: int = Field(1, description="seeds the base model's probe proposals, apart from the run's seed")
    probe_rounds: int = Field(6, ge=1, description="proposal rounds at most while building the probe set")
    probes_file: Path | None = Field(
        None, description="a probes.jsonl from another run, so two runs (a run and its control) share one probe set"
    )


class RunConfig(StrictModel):
    """Everything a run needs; written to RUN_DIR/config.yaml so a resume reads the same."""

    steps: int = Field(100, ge=0)
    seed: int = 0
    run_dir: Path | None = None
    checkpoint_every: int = Field(10, ge=1)
    keep_checkpoints: int = Field(2, ge=1)
    engine: EngineConfig = EngineConfig()
    executor: ExecutorConfig = ExecutorConfig()
    cluster: ClusterConfig = ClusterConfig()
    tasks: TasksConfig = TasksConfig()
    selfplay: SelfPlayConfig = SelfPlayConfig()
    oversight: OversightConfig = OversightConfig()
    eval: InTrainingEvalConfig = InTrainingEvalConfig()


# The paper preset follows the public reference code's selfplay script and the paper's
# hyper-parameter table; docs/presets.md lists every value with its source and where the two
# disagree (entropy bonus and weight decay: the table's values are used).
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {
        "steps": 500,
        "engine": {
            "lr": 1e-6,
            "kl_coef": 0.0,
            "entropy_coef": 0.001,
            "weight_decay": 0.01,
            "max_prompt_tokens": 6144,
            "chat_template": "off",
        },
        "tasks": {
            "reply_style": "think",
            "validation": {"timeout_s": 10.0},
            "induction": {"num_inputs": 10, "min_pairs": 10},
        },
        "selfplay": {
            "proposals_per_type": 64,
            "solves_per_type": 64,
            "references": 6,
            "learnability_rollouts": 8,
            "buffer_capacity": 16384,
            "seed_tasks_per_type": 256,
            "reward_scheme": "reference",
            "proposer": {"temperature": 1.0, "top_p": 1.0, "max_new_tokens": 8096},
            "solver": {"temperature": 1.0, "top_p": 1.0, "max_new_tokens": 8096},
        },
    },
    "cpu-small": {
        "steps": 20,
        "checkpoint_every": 5,
        "engine": {"lr": 1e-6, "dtype": "float32", "chat_template": "off"},
        "tasks": {"reply_style": "direct"},
        "selfplay": {
            "proposals_per_type": 4,
            "solves_per_type": 4,
            "references": 2,
            "learnability_rollouts": 4,
            "buffer_capacity": 512,
            "seed_tasks_per_type": 4,
            "max_seeding_rounds": 4,
            "proposer": {"temperature": 0.8, "max_new_tokens": 160},
            "solver": {"temperature": 0.8, "max_new_tokens": 96},
        },
    },
    "smoke": {
        "steps": 2,
        "checkpoint_every": 1,
        "engine": {"lr": 1e-6, "dtype": "float32", "chat_template": "off"},
        "tasks": {"reply_style": "direct"},
        "selfplay": {
            "proposals_per_type": 2,
            "solves_per_type": 2,
            "references": 1,
            "learnability_rollouts": 2,
            "buffer_capacity": 64,
            "seed_tasks_per_type": 2,
            "max_seeding_rounds": 1,
            "proposer": {"temperature": 0.8, "max_new_tokens": 64},
            "solver": {"temperature": 0.8, "max_new_tokens": 32},
        },
    },
}


# The learning recipe of docs/learning.md: cpu-small's sizes with a learning rate for a 135M
# model (the paper's 1e-6 was set for 7B) and held-out probes every 4 steps. CRUXEval is off
# by default because it needs benchmark data; eval.limit and eval.data_dir turn it on.
PRESETS["cpu"] = deep_merge(PRESETS["cpu-small"], {
    "steps": 24,
    "checkpoint_every": 4,
    "engine": {"lr": 2e-5},
    "eval": {"every_n_steps": 4, "limit": 0, "probe_tasks_per_type": 16},
})


def load_run_config(
    *, preset: str | None = None, path: Path | None = None, overrides: list[str] | None = None
) -> RunConfig:
    """Defaults < preset < YAML file < ``key=value`` overrides."""
    return build_config(RunConfig, presets=PRESETS, preset=preset, path=path, overrides=overrides)
