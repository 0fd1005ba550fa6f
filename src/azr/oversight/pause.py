"""The pause switch: a state file in the run directory that only an acknowledgement clears.

When the throttle pauses a run, the loop checkpoints and exits; ``oversight/pause.json``
then says why. Nothing continues the run until ``azr resume RUN_DIR --ack "why"`` has
written the acknowledgement to the ledger. A stopped run cannot be resumed at all.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from azr.oversight.decision import Action, ActionKind
from azr.oversight.errors import OversightConfigError, RunPausedError, RunStoppedError

PAUSE_FILE = Path("oversight") / "pause.json"
HISTORY_FILE = Path("oversight") / "pauses.jsonl"
MIN_ACK_WORDS = 3


class AppendsRecords(Protocol):
    def append(self, kind: str, payload: dict[str, Any], step: int | None = None) -> Any: ...


@dataclass(frozen=True)
class PauseState:
    status: Literal["paused", "stopped"]
    step: int
    reason: str
    at: float


def write_pause(run_dir: Path, action: Action, step: int) -> PauseState:
    """Record a PAUSE or STOP so the next start of this run refuses until it is handled."""
    if action.kind not in (ActionKind.PAUSE, ActionKind.STOP):
        raise ValueError(f"only pause and stop are written to the pause file, not {action.kind.value}")
    state = PauseState("stopped" if action.kind is ActionKind.STOP else "paused", step, action.reason, time.time())
    path = Path(run_dir) / PAUSE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2))
    tmp.replace(path)
    return state


def read_pause(run_dir: Path) -> PauseState | None:
    path = Path(run_dir) / PAUSE_FILE
    if not path.is_file():
        return None
    try:
        return PauseState(**json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise OversightConfigError(f"the pause file {path} is unreadable ({exc}); inspect it by hand") from exc


def ensure_may_continue(run_dir: Path) -> None:
    """Raise unless the run may go on: the train command calls this before continuing a run."""
    state = read_pause(run_dir)
    if state is None:
        return
    if state.status == "stopped":
        raise RunStoppedError(
            f"run {run_dir} was stopped by oversight at step {state.step} ({state.reason}); "
            f"read {Path(run_dir) / 'scorecard.md'} and start a new run instead"
        )
    raise RunPausedError(
        f"run {run_dir} was paused by oversight at step {state.step} ({state.reason}); read "
        f"{Path(run_dir) / 'scorecard.md'}, then continue with: azr resume {run_dir} --ack \"<why it is safe>\""
    )


def acknowledge(run_dir: Path, ack: str, ledger: AppendsRecords) -> PauseState:
    """Write the acknowledgement to the ledger, then lift the pause; returns the lifted state."""
    state = read_pause(run_dir)
    if state is None:
        raise RunPausedError(f"run {run_dir} is not paused; there is nothing to acknowledge")
    if state.status == "stopped":
        ensure_may_continue(run_dir)
    if len(ack.split()) < MIN_ACK_WORDS:
        raise RunPausedError(
            f"--ack must say in at least {MIN_ACK_WORDS} words why it is safe to continue (got {ack!r})"
        )
    payload = {"event": "resume_ack", "ack": ack, "paused_at_step": state.step, "pause_reason": state.reason}
    ledger.append("oversight", payload, step=state.step)
    history = Path(run_dir) / HISTORY_FILE
    with history.open("a") as handle:
        handle.write(json.dumps({**asdict(state), "ack": ack, "acknowledged_at": time.time()}) + "\n")
    (Path(run_dir) / PAUSE_FILE).unlink()
    return state
