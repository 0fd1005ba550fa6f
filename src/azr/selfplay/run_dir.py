"""The run directory: config, ledger, metrics, checkpoints, and the marker that makes it valid.

A directory is a run only once ``run.json`` exists, and that file is written last, after
the config and the ledger: a crash or a bad config during set-up leaves nothing that
``--resume`` would mistake for a run. Set-up first writes ``.azr-setup``, so a directory
whose set-up failed is recognised as such: a new run may replace it, and ``--resume``
says to start it again instead of calling it foreign.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from azr import __version__
from azr.engine.checkpoint import MANIFEST, checkpoint_problem
from azr.errors import AzrError
from azr.selfplay.config import RunConfig

log = logging.getLogger(__name__)

MARKER = "run.json"
SETUP_MARKER = ".azr-setup"
CONFIG = "config.yaml"
STATE = "azr_state.json"
_CHECKPOINT = re.compile(r"^step-(\d+)$")
_CHECKPOINT_LEFTOVER = re.compile(r"^\.step-\d+\.(partial|replaced)$")


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

    @staticmethod
    def ensure_free(path: Path) -> None:
        """Refuse a directory that holds anything but the remains of a failed set-up (checked before a model loads)."""
        if path.exists() and any(path.iterdir()) and not _failed_setup(path):
            raise RunDirError(
                f"{path} already exists and is not empty; pick another --run-dir, "
                f"or continue that run with: azr train --resume {path}"
            )

    @classmethod
    def create(cls, path: Path, config: RunConfig) -> RunDir:
        """Make a new run directory; refuse one that already holds anything but a failed set-up."""
        cls.ensure_free(path)
        try:
            if _failed_setup(path):
                log.warning("replacing %s: the set-up of the run there failed before its first step", path)
                shutil.rmtree(path)
            path.mkdir(parents=True, exist_ok=True)
            run = cls(path)
            (path / SETUP_MARKER).write_text("set-up of an azr run in progress; run.json marks it complete\n")
            run.checkpoints_dir.mkdir(exist_ok=True)
            run.write_config(config)
        except OSError as exc:
            raise RunDirError(f"cannot create run directory {path}: {exc.strerror or exc}") from exc
        return run

    def write_config(self, config: RunConfig) -> None:
        """Replace ``config.yaml`` atomically: a resume that extends the run's steps writes it again."""
        tmp = self.path / (CONFIG + ".tmp")
        tmp.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
        tmp.replace(self.config_path)

    def mark_valid(self) -> None:
        """Write the marker last, atomically: from now on this is a run."""
        marker = {"azr_version": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        tmp = self.path / (MARKER + ".tmp")
        tmp.write_text(json.dumps(marker))
        tmp.replace(self.path / MARKER)
        (self.path / SETUP_MARKER).unlink(missing_ok=True)

    @classmethod
    def open(cls, path: Path) -> RunDir:
        if _failed_setup(path):
            raise RunDirError(
                f"the set-up of the run in {path} failed before its first step, so there is nothing to resume; "
                f"start it again with the same azr train command and --run-dir {path} (that replaces it)"
            )
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
        """Complete checkpoints, oldest first: every file their manifest lists is there at its size.

        A checkpoint written before manifests existed counts once its state file exists, as it did then.
        """
        return [(step, path) for step, path in self._step_dirs() if _checkpoint_problem(path, hashes=False) is None]

    def latest_checkpoint(self) -> tuple[int, Path] | None:
        """The newest intact checkpoint (sizes and hashes checked); damaged newer ones are skipped with a warning."""
        for step, path in reversed(self._step_dirs()):
            problem = _checkpoint_problem(path, hashes=True)
            if problem is None:
                return step, path
            log.warning("checkpoint %s is not usable (%s); trying an older one", path, problem)
        return None

    def prune_checkpoints(self, keep: int) -> None:
        """Keep the newest ``keep`` complete checkpoints; remove older, damaged and half-written ones."""
        keep_paths = {p for _, p in self.checkpoints()[-keep:]}
        for child in self.checkpoints_dir.iterdir():
            if child in keep_paths:
                continue
            if _CHECKPOINT.match(child.name) or _CHECKPOINT_LEFTOVER.match(child.name):
                shutil.rmtree(child, ignore_errors=True)

    def _step_dirs(self) -> list[tuple[int, Path]]:
        found = []
        if self.checkpoints_dir.is_dir():
            for child in self.checkpoints_dir.iterdir():
                match = _CHECKPOINT.match(child.name)
                if match and child.is_dir():
                    found.append((int(match.group(1)), child))
        return sorted(found)


def _failed_setup(path: Path) -> bool:
    return (path / SETUP_MARKER).is_file() and not (path / MARKER).is_file()


def _checkpoint_problem(path: Path, hashes: bool) -> str | None:
    if not (path / MANIFEST).is_file():
        return None if (path / STATE).is_file() else f"it has no {MANIFEST}: it was never completely written"
    return checkpoint_problem(path, hashes)
