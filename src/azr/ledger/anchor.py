"""The head anchor: the chain's last link, kept in a small file beside the database.

A hash chain proves every record follows from the one before it, but cannot tell that
records were cut off its end. The anchor records how far the chain reached at the last
commit, so a shorter chain is caught. It is written after each commit, atomically
(temp file, fsync, rename), so a crash leaves either the old anchor or the new one.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from azr.ledger.errors import LedgerError

ANCHOR_NAME = "ledger.head.json"


@dataclass(frozen=True)
class HeadAnchor:
    """The last committed record: its id, its hash and how many records precede it."""

    last_id: int
    last_hash: str
    records: int


def anchor_path(run_dir: Path) -> Path:
    return Path(run_dir) / ANCHOR_NAME


def read_anchor(run_dir: Path) -> HeadAnchor | None:
    """The anchor, or None when there is no anchor file."""
    path = anchor_path(run_dir)
    try:
        data = json.loads(path.read_text())
        return HeadAnchor(last_id=int(data["last_id"]), last_hash=str(data["last_hash"]), records=int(data["records"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LedgerError(f"head anchor {path} is unreadable ({exc}); run `azr ledger verify {run_dir}`") from exc


def write_anchor(run_dir: Path, anchor: HeadAnchor) -> None:
    """Replace the anchor atomically and durably."""
    path = anchor_path(run_dir)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as handle:
        json.dump(asdict(anchor), handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def anchor_mismatch(anchor: HeadAnchor, last_id: int, hash_at_anchor: str | None) -> str | None:
    """Why the table disagrees with the anchor, or None when the anchored head is intact.

    ``hash_at_anchor`` is the stored hash of the record whose id the anchor names (None
    when there is no such record). A table that reaches past the anchor is not a
    mismatch: a crash between a commit and its anchor write leaves exactly that.
    """
    if anchor.last_id > last_id:
        return (
            f"the ledger ends at record {last_id} but its head anchor says it reached record "
            f"{anchor.last_id}: {anchor.last_id - last_id} record(s) were cut off the end"
        )
    if anchor.last_id > 0 and hash_at_anchor != anchor.last_hash:
        return f"record {anchor.last_id} no longer has the hash its head anchor recorded: it was edited or replaced"
    return None
