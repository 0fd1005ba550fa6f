"""A stub engine (no model, no torch): scripted completions, a counted no-op update.

It stands in for :class:`azr.engine.Engine` in tests of the loop's life (many steps,
tripwires, kills and resumes) that would take an hour with the real model. Everything
around it is real: the executor runs every program, the ledger records every step.
Its completions are chosen by a seeded RNG from the prompt's shape, so proposals are a mix
of new valid tasks, invalid ones and malformed text, and answers a mix of right and wrong.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Sequence

from azr.engine.types import Rollout, SamplingParams, TrainSample, UpdateStats

STATE_FILE = "stub_engine.json"


class StubEngine:
    """Implements the part of Engine's interface that the trainer and the loop use."""

    def __init__(self, updates: int = 0) -> None:
        self.updates = updates
        self.samples_seen = 0

    @classmethod
    def from_config(cls, config: Any, group: Any = None) -> "StubEngine":
        return cls()

    @classmethod
    def from_checkpoint(cls, directory: str | Path, config: Any, group: Any = None) -> "StubEngine":
        state = json.loads((Path(directory) / STATE_FILE).read_text())
        return cls(updates=state["updates"])

    def save_checkpoint(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / STATE_FILE).write_text(json.dumps({"updates": self.updates}))
        return directory

    def prompt_fits(self, prompt: str) -> bool:
        return True

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[Rollout]:
        rng = random.Random(params.seed)
        rollouts = []
        for index, prompt in enumerate(prompts):
            for _ in range(params.n):
                text = _reply(prompt, rng)
                ids = [ord(c) % 97 + 1 for c in text[:40]] or [1]
                rollouts.append(Rollout(index, prompt, [1, 2, 3], ids, [-1.0] * len(ids), text, "stop",
                                        params.temperature))
        return rollouts

    def update(self, samples: Sequence[TrainSample]) -> UpdateStats:
        groups: dict[str, list[float]] = {}
        for sample in samples:
            groups.setdefault(sample.group, []).append(sample.reward)
        advantages = []
        for sample in samples:
            rewards = groups[sample.group]
            mean = sum(rewards) / len(rewards)
            advantages.append(sample.reward - mean)
        self.updates += 1
        self.samples_seen += len(samples)
        return UpdateStats(loss=0.0, policy_loss=0.0, tokens=sum(len(s.completion_ids) for s in samples),
                           advantages=advantages, optimizer_steps=1)


def _reply(prompt: str, rng: random.Random) -> str:
    """A completion in the direct style (the prompt has already opened <answer>)."""
    if "A new puzzle" in prompt:
        roll = rng.random()
        if roll < 0.15:
            return "I am not sure what to write.</answer>"
        k = rng.randrange(1000)
        body = f"return x + {k}" if roll < 0.85 else "return x / 0"
        return f"\n```python\ndef f(x):\n    {body}\n```\nf({rng.randrange(50)})\n</answer>"
    if "must rewrite f" in prompt:
        calls = "\n".join(f"f({rng.randrange(100)})" for _ in range(8))
        return f"\nHint: it adds a number.\n{calls}\n</answer>"
    if "python block" in prompt:
        return "\n```python\ndef f(x):\n    return x\n```\n</answer>"
    return f"{rng.choice(['0', '1', '42', rng.randrange(1000)])}</answer>"
