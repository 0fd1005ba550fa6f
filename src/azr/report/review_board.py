"""The dashboard's side of the human review queue: what awaits a decision, and taking one.

Items and recorded decisions come from the ledger (read-only, only the records new since
the last look); decisions a person made that the training loop has not yet recorded come
from the inbox file. Submitting appends to the inbox and nothing else: the training
process is the ledger's only writer, and it records the decision at its next step.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from azr.errors import AzrError
from azr.ledger import Ledger
from azr.oversight.review import (
    DECISION_KIND,
    ITEM_KIND,
    HumanDecision,
    ReviewInputError,
    append_decision,
    read_inbox,
)

MAX_SHOWN = 200


class ReviewConflictError(AzrError):
    """A decision on an item that already has one: the page should refresh and show it."""


class ReviewBoard:
    """Follows one run's review items and decisions; serialises submissions so none interleave."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self._lock = threading.Lock()
        self._after = {ITEM_KIND: 0, DECISION_KIND: 0}
        self._items: dict[str, dict[str, Any]] = {}
        self._recorded: dict[str, dict[str, Any]] = {}

    def state(self) -> dict[str, Any]:
        """Pending items (oldest first, at most ``MAX_SHOWN``) with any decision still waiting in the inbox."""
        with self._lock:
            self._poll()
            waiting = self._waiting()
            pending = [item for item_id, item in self._items.items() if item_id not in self._recorded]
            shown = [{**item, "inbox": waiting.get(item["item_id"])} for item in pending[:MAX_SHOWN]]
            vetoed = sum(1 for d in self._recorded.values() if d["decision"] == "veto")
            return {
                "items": shown,
                "counts": {"items": len(self._items), "pending": len(pending), "awaiting_ledger": len(waiting),
                           "decided": len(self._recorded), "vetoed": vetoed, "shown": len(shown)},
            }

    def submit(self, data: Any) -> HumanDecision:
        """Validate a decision from the page and append it to the inbox.

        Raises :class:`ReviewInputError` (a bad field or an unknown item) or
        :class:`ReviewConflictError` (the item already has a decision, recorded or waiting).
        """
        if not isinstance(data, dict):
            raise ReviewInputError("the request body must be a JSON object")
        decision = HumanDecision.new(data.get("item_id"), data.get("decision"), data.get("reason"),
                                     data.get("reviewer"))
        with self._lock:
            self._poll()
            if decision.item_id not in self._items:
                raise ReviewInputError(f"no review item {decision.item_id!r} in this run's ledger")
            earlier = self._recorded.get(decision.item_id) or self._waiting().get(decision.item_id)
            if earlier is not None:
                raise ReviewConflictError(
                    f"review item {decision.item_id!r} was already decided ({earlier['decision']} by "
                    f"{earlier['reviewer']}); reload the page")
            append_decision(self.run_dir, decision)
        return decision

    def _poll(self) -> None:
        with Ledger.open(self.run_dir, readonly=True) as ledger:
            for record in ledger.records(kind=ITEM_KIND, after_id=self._after[ITEM_KIND]):
                self._items[record.payload["item_id"]] = record.payload
                self._after[ITEM_KIND] = record.id
            for record in ledger.records(kind=DECISION_KIND, after_id=self._after[DECISION_KIND]):
                if record.payload.get("status") == "accepted":
                    self._recorded[record.payload["item_id"]] = record.payload
                self._after[DECISION_KIND] = record.id

    def _waiting(self) -> dict[str, dict[str, str]]:
        """Decisions in the inbox on items the ledger has no decision for yet: the first one wins,
        as it will when the loop reads them."""
        waiting: dict[str, dict[str, str]] = {}
        for line in read_inbox(self.run_dir):
            if line.decision is not None and line.decision.item_id not in self._recorded:
                waiting.setdefault(line.decision.item_id, line.decision.to_dict())
        return waiting
