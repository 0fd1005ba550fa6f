"""Settings of the report and the dashboard (the ``report:`` block, or CLI flags)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from azr.config import StrictModel

Embedder = Literal["ast", "minilm"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class ReportConfig(StrictModel):
    """How the views are built; the defaults keep a few-hundred-step run's report within seconds."""

    embedder: Embedder = Field("ast", description="ast: AST-token TF-IDF; minilm: also the MiniLM sentence model")
    max_families: int = Field(12, ge=1, description="the most task families the clustering may find")
    map_points: int = Field(3000, ge=10, description="the most proposals drawn on the family map (sampled)")
    max_text_chars: int = Field(4000, ge=100, description="longer texts in the task table are cut, with a note")
    attempts_per_task: int = Field(16, ge=0, description="solver attempts listed under each task")
    max_tasks: int = Field(20000, ge=1, description="the task table lists the newest proposals, up to this many")
