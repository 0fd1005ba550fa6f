"""Human spot checks: a review queue the training loop fills and a person works through.

Three parties, each with its own file, because the ledger has exactly one writer:

- the loop picks a deterministic sample of new tasks and solver attempts, plus everything
  oversight flagged or vetoed, and writes each as a ``review_item`` ledger record;
- the dashboard shows the pending items and appends a person's verdicts, one JSON line
  each, to ``RUN/oversight/review_decisions.jsonl`` (the inbox); it never writes the ledger;
- at each step start the loop reads the inbox lines it has not read yet, writes a
  ``review_decision`` record for each (``rejected`` with the reason when a line is unusable)
  and removes a vetoed task from every buffer for the rest of the run.

Everything the queue knows is rebuilt from the ledger on resume, including how far into the
inbox it has read, so a decision is recorded exactly once even across crashes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import Field

from azr.config import StrictModel
from azr.errors import AzrError
from azr.ledger import Record
from azr.oversight.decision import Action, ActionKind
from azr.oversight.pause import write_pause

log = logging.getLogger(__name__)

INBOX_FILE = Path("oversight") / "review_decisions.jsonl"
ITEM_KIND = "review_item"
DECISION_KIND = "review_decision"
SAMPLE = "sample"
DECISIONS = ("approve", "veto")
MAX_REVIEWER_CHARS = 100
MAX_REASON_CHARS = 4000

HumanVerdict = Literal["approve", "veto"]


class ReviewConfig(StrictModel):
    """The ``oversight.review`` block: what the loop puts before a person, and when it waits."""

    enabled: bool = True
    sample_rate: float = Field(
        default=0.05, ge=0.0, le=1.0,
        description="share of new buffered tasks and of trained solver attempts queued for review",
    )
    include_flagged: bool = Field(default=True, description="queue every proposal or completion oversight flagged or vetoed")
    pause_backlog: int | None = Field(
        default=None, ge=0,
        description="pause the run when more items than this await a decision at a step's end; None or 0: never",
    )
    seed: int = Field(default=0, description="which items the sample picks; the same seed picks the same items")


class ReviewInputError(AzrError):
    """A review decision that cannot be used: the message says which field is wrong and why."""


@dataclass(frozen=True)
class HumanDecision:
    """One person's verdict on one queue item, as the inbox holds it."""

    decision_id: str
    item_id: str
    decision: HumanVerdict
    reason: str
    reviewer: str
    decided_at: str

    @classmethod
    def new(cls, item_id: Any, decision: Any, reason: Any, reviewer: Any) -> HumanDecision:
        """A fresh decision from form input, validated; stamps its id and time."""
        return cls.parse({"decision_id": uuid.uuid4().hex, "item_id": item_id, "decision": decision,
                          "reason": reason, "reviewer": reviewer,
                          "decided_at": datetime.now(UTC).isoformat(timespec="seconds")})

    @classmethod
    def parse(cls, data: Any) -> HumanDecision:
        """Validate one decision; raises :class:`ReviewInputError` naming the first bad field."""
        if not isinstance(data, dict):
            raise ReviewInputError(f"a decision must be a JSON object, not {type(data).__name__}")
        fields = {}
        for name in ("decision_id", "item_id", "reason", "reviewer", "decided_at"):
            value = data.get(name)
            if not isinstance(value, str) or not value.strip():
                raise ReviewInputError(f"{name!r} must be a non-empty string (got {value!r})")
            fields[name] = value.strip()
        if len(fields["reviewer"]) > MAX_REVIEWER_CHARS:
            raise ReviewInputError(f"'reviewer' is longer than {MAX_REVIEWER_CHARS} characters")
        if len(fields["reason"]) > MAX_REASON_CHARS:
            raise ReviewInputError(f"'reason' is longer than {MAX_REASON_CHARS} characters")
        decision = data.get("decision")
        if decision not in DECISIONS:
            raise ReviewInputError(f"'decision' must be one of {', '.join(DECISIONS)} (got {decision!r})")
        return cls(decision=decision, **fields)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class InboxLine:
    """One complete inbox line: where it lies in the file, its text, and its decision or error."""

    offset: int
    end: int
    text: str
    decision: HumanDecision | None
    error: str | None


def inbox_path(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / INBOX_FILE


def append_decision(run_dir: str | os.PathLike[str], decision: HumanDecision) -> None:
    """Append one decision as one line, flushed and fsynced, so an acknowledged verdict survives a crash.

    A reader takes only lines that end in a newline, so it never sees half of this write.
    """
    path = inbox_path(run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(decision.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def read_inbox(run_dir: str | os.PathLike[str], offset: int = 0) -> list[InboxLine]:
    """Every complete line from byte ``offset`` on; an unfinished last line waits for its newline."""
    path = inbox_path(run_dir)
    if not path.is_file():
        return []
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read()
    lines: list[InboxLine] = []
    start = 0
    while (newline := data.find(b"\n", start)) >= 0:
        raw = data[start:newline]
        if raw.strip():
            lines.append(_parse_line(raw, offset + start, offset + newline + 1))
        start = newline + 1
    return lines


def _parse_line(raw: bytes, offset: int, end: int) -> InboxLine:
    text = raw.decode("utf-8", errors="replace")
    try:
        return InboxLine(offset, end, text, HumanDecision.parse(json.loads(text)), None)
    except json.JSONDecodeError as exc:
        return InboxLine(offset, end, text, None, f"not a JSON line ({exc.msg} at column {exc.colno})")
    except ReviewInputError as exc:
        return InboxLine(offset, end, text, None, str(exc))


def sampled(seed: int, rate: float, *parts: str) -> bool:
    """Whether the sample takes the item named by ``parts``: a hash, not the run's random stream,
    so the same item is always taken or left and sampling never shifts the run's draws."""
    if rate <= 0.0:
        return False
    digest = hashlib.sha256("\0".join([str(seed), *parts]).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


class BlocksTasks(Protocol):
    """What the queue needs of the buffers: remove a task and keep it out."""

    def block(self, key: str) -> list[str]: ...


class ReadsRecords(Protocol):
    def records(self, kind: str | None = None) -> Iterable[Record]: ...


@dataclass
class _Item:
    task_key: str | None
    decided: bool = False


class ReviewQueue:
    """The loop's side of the queue: which items exist, which await a decision, which tasks are vetoed.

    ``active`` False (oversight or review disabled) queues nothing and never pauses, but a
    person's verdicts on earlier items are still recorded and vetoes still applied.
    """

    def __init__(self, config: ReviewConfig, run_dir: Path, active: bool = True) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.active = active and config.enabled
        self.items: dict[str, _Item] = {}
        self.vetoed: set[str] = set()
        self.seen_decisions: set[str] = set()
        self.inbox_offset = 0
        self._records: list[tuple[str, dict[str, Any]]] = []
        self._queued = self._vetoes = 0
        self._step, self._step_items = -1, 0

    @classmethod
    def from_ledger(cls, config: ReviewConfig, ledger: ReadsRecords, run_dir: Path, active: bool = True) -> ReviewQueue:
        """The queue as the ledger left it: items, decisions, vetoed tasks and the inbox position."""
        queue = cls(config, run_dir, active=active)
        for record in ledger.records(kind=ITEM_KIND):
            queue.items[record.payload["item_id"]] = _Item(record.payload.get("task_key"))
        for record in ledger.records(kind=DECISION_KIND):
            queue._replay(record.payload)
        return queue

    def _replay(self, payload: dict[str, Any]) -> None:
        self.inbox_offset = max(self.inbox_offset, int(payload.get("inbox_end", 0)))
        if payload.get("decision_id"):
            self.seen_decisions.add(payload["decision_id"])
        if payload.get("status") != "accepted":
            return
        item = self.items.get(payload["item_id"])
        if item is not None:
            item.decided = True
        if payload["decision"] == "veto" and payload.get("task_key"):
            self.vetoed.add(payload["task_key"])

    @property
    def backlog(self) -> int:
        """Items that no person has decided yet (decisions still in the inbox count as undecided)."""
        return sum(1 for item in self.items.values() if not item.decided)

    def is_vetoed(self, task_key: str | None) -> bool:
        return task_key is not None and task_key in self.vetoed

    def takes_sample(self, *parts: str) -> bool:
        return self.active and sampled(self.config.seed, self.config.sample_rate, *parts)

    @property
    def takes_flagged(self) -> bool:
        return self.active and self.config.include_flagged

    def add(self, step: int, item: dict[str, Any]) -> str:
        """Queue one item (a ledger payload without its id); returns the id it was given."""
        self._step_items = self._step_items + 1 if step == self._step else 1
        self._step = step
        item_id = f"{step}.{self._step_items}"
        self.items[item_id] = _Item(item.get("task_key"))
        self._records.append((ITEM_KIND, {"item_id": item_id, "step": step, **item}))
        self._queued += 1
        return item_id

    def apply_vetoes(self, buffers: BlocksTasks) -> None:
        """Keep every vetoed task out of the buffers: on resume, the checkpoint may predate a veto."""
        for key in sorted(self.vetoed):
            buffers.block(key)

    def ingest(self, buffers: BlocksTasks) -> int:
        """Record the inbox's new decisions and apply vetoes; returns how many lines were read.

        Unusable lines are recorded as rejected with the reason and their text, never dropped
        and never fatal. A line already recorded (same ``decision_id``) is skipped.
        """
        path = inbox_path(self.run_dir)
        if path.is_file() and path.stat().st_size < self.inbox_offset:
            log.warning("review inbox %s is shorter than the %d bytes already read: it was replaced or cut; "
                        "reading it again from the start (decisions already recorded are skipped)", path,
                        self.inbox_offset)
            self.inbox_offset = 0
        lines = read_inbox(self.run_dir, self.inbox_offset)
        for line in lines:
            self._ingest_line(line, buffers)
            self.inbox_offset = line.end
        return len(lines)

    def _ingest_line(self, line: InboxLine, buffers: BlocksTasks) -> None:
        where = {"inbox_offset": line.offset, "inbox_end": line.end}
        decision = line.decision
        if decision is None:
            self._reject(where, {"line": line.text}, line.error or "unreadable line")
            return
        if decision.decision_id in self.seen_decisions:
            log.info("review decision %s is already in the ledger; skipping its repeat", decision.decision_id)
            return
        self.seen_decisions.add(decision.decision_id)
        item = self.items.get(decision.item_id)
        if item is None:
            self._reject(where, decision.to_dict(), f"no review item {decision.item_id!r} in this run")
            return
        if item.decided:
            self._reject(where, decision.to_dict(), f"review item {decision.item_id!r} was already decided")
            return
        item.decided = True
        payload = {**decision.to_dict(), **where, "status": "accepted", "task_key": item.task_key}
        if decision.decision == "veto":
            self._vetoes += 1
        if decision.decision == "veto" and item.task_key is not None:
            self.vetoed.add(item.task_key)
            payload["removed_from"] = buffers.block(item.task_key)
            log.warning("review item %s vetoed by %s: task %s removed from the buffers (%s)", decision.item_id,
                        decision.reviewer, item.task_key[:12], decision.reason)
        self._records.append((DECISION_KIND, payload))

    def _reject(self, where: dict[str, int], content: dict[str, Any], error: str) -> None:
        log.warning("review inbox line at byte %d rejected: %s", where["inbox_offset"], error)
        self._records.append((DECISION_KIND, {**content, **where, "status": "rejected", "error": error}))

    def end_step(self, step: int, action: Action) -> Action:
        """Pause when the backlog passes ``pause_backlog``, unless oversight already pauses or stops."""
        limit = self.config.pause_backlog
        if not (self.active and limit) or self.backlog <= limit or action.rank >= Action.PAUSE.rank:
            return action
        reason = (f"{self.backlog} review items await a decision, more than oversight.review.pause_backlog={limit}; "
                  "decide them in `azr dashboard`")
        pause = Action(ActionKind.PAUSE, reason=reason)
        log.warning("oversight asks to pause: %s", reason)
        self._records.append(("oversight", {"event": "action", "action": pause.kind.value, "seconds": 0.0,
                                            "reason": reason}))
        write_pause(self.run_dir, pause, step)
        return pause

    def metrics(self) -> dict[str, float]:
        """``review/queued`` and ``review/vetoed`` (vetoes recorded) this step, ``review/backlog`` now."""
        return {"review/queued": float(self._queued), "review/backlog": float(self.backlog),
                "review/vetoed": float(self._vetoes)}

    def drain_records(self) -> list[tuple[str, dict[str, Any]]]:
        """The records gathered since the last drain, for the step's transaction; resets the step's counts."""
        records, self._records = self._records, []
        self._queued = self._vetoes = 0
        return records
