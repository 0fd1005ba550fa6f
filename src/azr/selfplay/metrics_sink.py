"""Step metrics to a JSONL file (for scripts) and TensorBoard (for people)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import TracebackType


class MetricsSink:
    """Appends one JSON line per step and mirrors the scalars to TensorBoard."""

    def __init__(self, jsonl_path: Path, tensorboard_dir: Path) -> None:
        self.jsonl_path = jsonl_path
        self.tensorboard_dir = tensorboard_dir
        self._file = None
        self._writer = None

    def __enter__(self) -> MetricsSink:
        from torch.utils.tensorboard import SummaryWriter

        self._file = self.jsonl_path.open("a")
        self._writer = SummaryWriter(log_dir=str(self.tensorboard_dir))
        return self

    def write(self, step: int, metrics: dict[str, float]) -> None:
        assert self._file is not None and self._writer is not None, "use MetricsSink as a context manager"
        self._file.write(json.dumps({"step": step, "time": time.time(), **metrics}) + "\n")
        self._file.flush()
        for name, value in metrics.items():
            self._writer.add_scalar(name, value, step)
        self._writer.flush()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._file is not None:
            self._file.close()
