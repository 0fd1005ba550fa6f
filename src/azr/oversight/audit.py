"""Standalone audit: the task watchdog and the reasoning auditor over completions from anywhere.

Reads a plain text file (one completion) or JSONL (one completion per line, from any
tool). Text fields are audited for intent; Python code (a ``program`` field, fenced code
blocks, or a text file that parses as Python) also goes through the task watchdog.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azr.oversight.auditor import ReasoningAuditor
from azr.oversight.config import OversightConfig
from azr.oversight.decision import Finding
from azr.oversight.errors import OversightConfigError
from azr.oversight.semantic import Embedder
from azr.oversight.watchdog import TaskText, TaskWatchdog

TEXT_KEYS = ("completion", "reasoning", "response", "output", "text", "content", "answer", "message")
_CODE_BLOCK = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class AuditItem:
    """One completion: ``source`` names it (file:line), ``texts`` maps field -> text."""

    source: str
    texts: dict[str, str]
    program: str = ""
    task_type: str = ""


@dataclass(frozen=True)
class AuditFlag:
    source: str
    finding: Finding


# One completion is kilobytes; the safety policy takes minutes on a 10 MB program and
# the embedding model hours on 100 MB of prose, so a bigger item is refused up front.
DEFAULT_MAX_ITEM_MB = 1.0


def load_items(path: Path, max_item_mb: float = DEFAULT_MAX_ITEM_MB) -> list[AuditItem]:
    """A JSONL file becomes one item per line; anything else is one item of plain text.

    An item over ``max_item_mb`` megabytes (10**6 bytes of UTF-8) is refused with its
    name and size, before anything parses it.
    """
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as exc:
        raise OversightConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if lines and (path.suffix == ".jsonl" or all(_is_json_object(line) for _, line in lines)):
        for n, line in lines:
            _check_size(f"{path.name}:{n}", line, max_item_mb)
        return [_json_item(f"{path.name}:{n}", line) for n, line in lines]
    _check_size(path.name, text, max_item_mb)
    program = text if _is_python(text) else ""
    return [AuditItem(source=path.name, texts={} if program else {"text": text}, program=program)]


def _check_size(source: str, text: str, max_item_mb: float) -> None:
    size_mb = len(text.encode("utf-8")) / 1e6
    if size_mb > max_item_mb:
        raise OversightConfigError(
            f"{source} is {size_mb:.1f} MB, over the {max_item_mb:g} MB azr audit reads per item "
            f"(auditing it could take hours); split it, or pass --max-item-mb {math.ceil(size_mb)}"
        )


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


def _is_python(text: str) -> bool:
    """Whether ``text`` is a Python module; one nested too deep to parse is audited as prose."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return any(not isinstance(node, ast.Expr) for node in tree.body)


def _json_item(source: str, line: str) -> AuditItem:
    try:
        record: dict[str, Any] = json.loads(line)
    except ValueError as exc:
        raise OversightConfigError(f"{source} is not valid JSON ({exc}); a JSONL file needs one object per line") from exc
    except RecursionError as exc:
        raise OversightConfigError(f"{source} is nested too deeply to read as JSON; a completion is one flat object") from exc
    if not isinstance(record, dict):
        raise OversightConfigError(f"{source} is JSON but not an object; a JSONL file needs one object per line")
    texts = {key: record[key] for key in TEXT_KEYS if isinstance(record.get(key), str)}
    for index, message in enumerate(record.get("messages") or []):
        if isinstance(message, dict) and isinstance(message.get("content"), str) and message.get("role") != "system":
            texts[f"messages[{index}]"] = message["content"]
    if not texts and not isinstance(record.get("program"), str):
        texts = {key: value for key, value in record.items() if isinstance(value, str)}
    program = record.get("program") if isinstance(record.get("program"), str) else ""
    return AuditItem(source=source, texts=texts, program=program, task_type=str(record.get("task_type", "")))


class Auditor:
    """The two monitors, built once, applied to many items in batches."""

    def __init__(self, config: OversightConfig, embedder: Embedder | None = None, batch_items: int = 128) -> None:
        self.batch_items = batch_items
        self.watchdog = TaskWatchdog(config.watchdog)
        self.auditor = ReasoningAuditor(config.auditor, embedder)

    def audit(self, items: list[AuditItem], on_progress: Callable[[int], None] | None = None) -> list[AuditFlag]:
        """Flags of every item, item by item; ``on_progress(n)`` after each batch of n items.

        Each batch of ``batch_items`` is one call into the embedding model: large enough to
        keep it busy, small enough that progress moves and memory stays flat on big files.
        """
        flags: list[AuditFlag] = []
        for first in range(0, len(items), self.batch_items):
            batch = items[first:first + self.batch_items]
            pairs = [(field, text) for item in batch for field, text in item.texts.items()]
            found = iter(self.auditor.review_texts(pairs))
            for item in batch:
                for _ in item.texts:
                    flags.extend(AuditFlag(item.source, f) for f in next(found))
                for program in programs_of(item):
                    task = TaskText(task_type=item.task_type, program=program)
                    flags.extend(AuditFlag(item.source, f) for f in self.watchdog.review_task(task))
            if on_progress is not None:
                on_progress(len(batch))
        return flags


def programs_of(item: AuditItem) -> list[str]:
    """The item's ``program`` and every fenced Python block inside its texts."""
    programs = [item.program] if item.program else []
    for text in item.texts.values():
        programs += [block for block in _CODE_BLOCK.findall(text) if block.strip()]
    return programs
