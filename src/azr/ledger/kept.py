"""Heads kept outside the run directory, so a cut-off end cannot be hidden by rewriting the anchor too.

``ledger.head.json`` lives beside the database: whoever can delete the last records and
re-create the triggers can also rewrite it to match, and then every check inside the run
directory holds. A head the user keeps elsewhere cannot be rewritten that way. It is
either one ``ID:HASH`` line (printed by ``azr ledger verify``, kept wherever the user
likes) or an append-only JSON Lines file the user chooses, outside the run directory,
to which ``azr ledger verify --anchor-file`` adds the head after each passing check.
A ledger is named there by the hash of its first record.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from azr.ledger.errors import LedgerError

_HEAD = re.compile(r"^(\d+):([0-9a-f]{64})$")


@dataclass(frozen=True)
class KeptHead:
    """A record the ledger reached once: its id and its hash (which covers every record before it)."""

    last_id: int
    last_hash: str

    def __str__(self) -> str:
        return f"{self.last_id}:{self.last_hash}"


def parse_head(text: str) -> KeptHead:
    """``ID:HASH`` as printed by ``azr ledger verify``."""
    match = _HEAD.match(text.strip().lower())
    if match is None or int(match.group(1)) < 1:
        raise LedgerError(f"head {text!r} is not of the form ID:HASH (a record id, a colon, 64 hex digits), as `azr ledger verify` prints it")
    return KeptHead(int(match.group(1)), match.group(2))


@dataclass(frozen=True)
class AnchorFileHeads:
    """What an anchor file holds for one ledger, and whether it names the run directory under another ledger."""

    heads: list[KeptHead]
    replaced: bool


def read_anchor_file(path: Path, ledger_id: str | None, run_dir: Path) -> AnchorFileHeads:
    """Heads kept in ``path`` for the ledger whose first record hashes to ``ledger_id``.

    ``replaced`` is True when the file kept heads for ``run_dir`` under another first
    record: the whole ledger there was swapped for a new one.
    """
    heads: list[KeptHead] = []
    replaced = False
    where = str(Path(run_dir).resolve())
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return AnchorFileHeads(heads, replaced)
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"cannot read the anchor file {path} ({exc})") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            head = parse_head(entry["head"])
            ledger, entry_dir = str(entry["ledger"]), str(entry.get("run_dir", ""))
        except (ValueError, KeyError, TypeError, LedgerError) as exc:
            raise LedgerError(f"line {number} of the anchor file {path} is not a kept head ({exc})") from exc
        if ledger == ledger_id:
            heads.append(head)
        elif entry_dir == where:
            replaced = True
    return AnchorFileHeads(heads, replaced)


def append_anchor_file(path: Path, ledger_id: str, head: KeptHead, run_dir: Path) -> None:
    """Add one line and make it durable; existing lines are never rewritten."""
    entry = {
        "ledger": ledger_id,
        "head": str(head),
        "run_dir": str(Path(run_dir).resolve()),
        "kept_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (json.dumps(entry) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise LedgerError(f"cannot append to the anchor file {path}: {exc.strerror or exc}") from exc
