"""Which model an evaluation is about: a model name or path, or a checkpoint of a run.

The engine loads either through :class:`azr.engine.EngineConfig` (a checkpoint directory is
what ``save_pretrained`` writes, which the engine loads like any local model). The cache
key of a checkpoint carries the modification time of its files, so re-training into the
same directory never reuses answers of the older weights.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from azr.eval.errors import EvalError
from azr.eval.ledger_rows import run_of_checkpoint

if TYPE_CHECKING:
    from azr.engine import Engine

RESULTS_DIR = Path("eval-results")


@dataclass(frozen=True)
class ModelChoice:
    """What to load and how to name it: ``label`` for people, ``key`` for the item cache."""

    spec: str
    label: str
    key: str
    run_dir: Path | None = None
    step: int | None = None

    def default_output(self) -> Path:
        """RUN_DIR/eval/step-N.json for a run's checkpoint, else eval-results/<model>.json."""
        if self.run_dir is not None:
            return self.run_dir / "eval" / f"step-{self.step}.json"
        return RESULTS_DIR / (re.sub(r"[^A-Za-z0-9._-]+", "_", self.label).strip("_") + ".json")


def choose_model(model: str | None, checkpoint: Path | None) -> ModelChoice:
    """Exactly one of ``--model`` and ``--checkpoint``; a checkpoint must be a directory."""
    if (model is None) == (checkpoint is None):
        raise EvalError("pass exactly one of --model NAME (e.g. --model smollm2-135m) or --checkpoint DIR")
    if model is not None:
        return ModelChoice(spec=model, label=model, key=model)
    assert checkpoint is not None
    path = checkpoint.expanduser().resolve()
    if not path.is_dir():
        raise EvalError(f"checkpoint {checkpoint} is not a directory; pass RUN_DIR/checkpoints/step-N or a saved model")
    newest = max((f.stat().st_mtime_ns for f in path.iterdir() if f.is_file()), default=0)
    found = run_of_checkpoint(path)
    run_dir, step = found if found else (None, None)
    label = f"{run_dir.name}@step-{step}" if run_dir is not None else str(path)
    return ModelChoice(spec=str(path), label=label, key=f"{path}@{newest}", run_dir=run_dir, step=step)


def load_engine(choice: ModelChoice, options: dict[str, str]) -> "Engine":
    """Load the model for generation with engine settings (chat_template, dtype, device, rollout);
    torch is imported only here."""
    from azr.engine import Engine, EngineConfig

    try:
        config = EngineConfig(model=choice.spec, **options)
    except ValidationError as error:
        raise EvalError(f"bad engine option: {error.errors()[0]['loc'][0]}: {error.errors()[0]['msg']}") from None
    return Engine.from_config(config)
