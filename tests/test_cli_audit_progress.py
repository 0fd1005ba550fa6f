"""``azr audit`` works through its items in batches, shows progress on a terminal, and embeds a repeated sentence once."""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from azr.cli import audit as audit_cli
from azr.cli.main import app
from azr.oversight import OversightConfig
from azr.oversight.audit import AuditItem, Auditor

pytestmark = pytest.mark.timeout(60)


class StubEmbedder:
    """A stand-in for MiniLM (its 384 dimensions): one random unit vector per distinct sentence; records what it was asked to embed."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        self.batches.append(list(sentences))
        rows = [np.random.default_rng(zlib.crc32(s.encode())).normal(size=384) for s in sentences]
        return np.array([row / np.linalg.norm(row) for row in rows], dtype=np.float32)


def test_items_are_audited_in_batches_with_progress_and_repeats_embedded_once() -> None:
    embedder = StubEmbedder()
    auditor = Auditor(OversightConfig(), embedder=embedder, batch_items=2)
    shared = "Let me trace the loop by hand first."
    items = [AuditItem(source=f"i{n}", texts={"completion": f"{shared} Then item number {n} adds one."}) for n in range(5)]
    done: list[int] = []
    auditor.audit(items, on_progress=done.append)
    assert done == [2, 2, 1]
    batches = embedder.batches
    assert len(batches) == 3
    sentences = [s for batch in batches for s in batch]
    # each item: its two sentences and the pair of them; the shared first sentence only once
    assert sentences.count(shared) == 1 and len(sentences) == 1 + 5 * 2


def test_flags_come_item_by_item_across_batches(tmp_path: Path) -> None:
    auditor = Auditor(OversightConfig(), embedder=StubEmbedder(), batch_items=2)
    items = [AuditItem(source=f"i{n}", texts={"completion": "I will outsmart the humans."}, program="import os\n")
             for n in range(3)]
    sources = [flag.source for flag in auditor.audit(items)]
    assert sources == sorted(sources) and set(sources) == {"i0", "i1", "i2"}


def test_the_cli_draws_progress_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps({"completion": f"The loop adds {n}."}) + "\n" for n in range(3)))
    screen = io.StringIO()
    monkeypatch.setattr(audit_cli, "console", Console(file=screen, force_terminal=True, width=100))
    result = CliRunner().invoke(app, ["audit", str(path), "--no-semantic"])
    assert result.exit_code == 0, result.output
    assert "auditing" in screen.getvalue() and "3/3" in screen.getvalue()
