"""Drive a real Trainer with the stub engine from a separate process, so a test can kill -9 it.

    python tests/_stub_run.py new RUN_DIR STEPS [key=value ...]
    python tests/_stub_run.py resume RUN_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from _stub_engine import StubEngine

from azr.selfplay import trainer as trainer_module
from azr.selfplay.config import load_run_config

trainer_module.Engine = StubEngine  # type: ignore[misc,assignment]


def main(argv: list[str]) -> int:
    mode, run_dir = argv[0], Path(argv[1])
    if mode == "new":
        config = load_run_config(preset="smoke", overrides=[f"steps={argv[2]}", *argv[3:]])
        trainer = trainer_module.Trainer.new(config, run_dir)
    else:
        trainer = trainer_module.Trainer.resume_from(run_dir)
    return trainer.train().exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
