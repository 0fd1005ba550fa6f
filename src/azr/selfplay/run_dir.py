"""The run directory: config, ledger, metrics, checkpoints, and the marker that makes it valid.

A directory is a run only once ``run.json`` exists, and that file is written last, after
the config and the ledger: a crash or a bad config during set-up leaves nothing that
``--resume`` would mistake for a run.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from azr import __version__
from azr.errors import AzrError
from azr.selfplay.config import RunConfig

MARKER = "run.json"
CONFIG = "config.yaml"
_CHECKPOINT = re.compile(r"^step-(\d+)$")


class RunDirError(AzrError):
    """The run directory is missing, not a run, or cannot be created."""


@dataclass(frozen=True)
class RunDir:
    path: Path

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def tensorboard_dir(self) -> Path:
        return self.path / "tensorboard"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    def checkpoint_dir(self, step: int) -> Path:
        return self.checkpoints_dir / f"step-{step}"

    @staticmethod
    def default_path(root: Path = Path("runs")) -> Path:
        return root / time.strftime("%Y%m%d-%H%M%S", time.gmtime())

    @classmethod
    def create(cls, path: Path, config: RunConfig) -> RunDir:
        """Make a new run directory; refuse one that already holds anything."""
        if path.exists() and any(path.iterdir()):
            raise RunDirError(
                f"{path} already exists and is not empty; pick another --run-dir, "
                f"or continue that run with: azr train --resume {path}"
            )
        try:
            path.mkdir(parents=True, exist_ok=True)
            run = cls(path)
            run.checkpoints_dir.mkdir(exist_ok=True)
            run.config_path.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
        except OSError as exc:
            raise RunDirError(f"cannot create run directory {path}: {exc.strerror or exc}") from exc
        return run

    def mark_valid(self) -> None:
        """Write the marker last, atomically: from now on this is a run."""
        marker = {"azr_version": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        tmp = self.path / (MARKER + ".tmp")
        tmp.write_text(json.dumps(marker))
        tmp.replace(self.path / MARKER)

    @classmethod
    def open(cls, path: Path) -> RunDir:
        if not (path / MARKER).is_file():
            raise RunDirError(
                f"{path} is not an azr run directory (no {MARKER}); it may be a run whose set-up failed. "
                "Start a new run with: azr train --run-dir NEW_DIR"
            )
        return cls(path)

    def load_config(self) -> RunConfig:
        from azr.selfplay.config import load_run_config

        return load_run_config(path=self.config_path)

    def checkpoints(self) -> list[tuple[int, Path]]:
        """Complete checkpoints, oldest first (a checkpoint is complete once its state file exists)."""
        found = []
        if self.checkpoints_dir.is_dir():
            for child in self.checkpoints_dir.iterdir():
                match = _CHECKPOINT.match(child.name)
                if match and (child / "azr_state.json").is_file():
                    found.append((int(match.group(1)), child))
        return sorted(found)

    def latest_checkpoint(self) -> tuple[int, Path] | None:
        found = self.checkpoints()
        return found[-1] if found else None

    def prune_checkpoints(self, keep: int) -> None:
        """Keep the newest ``keep`` complete checkpoints; remove older and incomplete ones."""
        complete = self.checkpoints()
        keep_paths = {p for _, p in complete[-keep:]}
        for child in self.checkpoints_dir.iterdir():
            if child not in keep_paths and _CHECKPOINT.match(child.name):
                shutil.rmtree(child, ignore_errors=True)
