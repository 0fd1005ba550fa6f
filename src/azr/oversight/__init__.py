"""azr.oversight: monitors inside the self-play loop that may veto, flag, slow or pause it.

The loop talks to one :class:`OversightHub`; see ``docs/oversight.md`` for the hook points.
"""

from azr.oversight.config import OversightConfig
from azr.oversight.decision import PAUSE_EXIT_CODE, STOP_EXIT_CODE, Action, ActionKind, Decision, Finding, Span
from azr.oversight.errors import OversightConfigError, RunPausedError, RunStoppedError
from azr.oversight.events import Event, Monitor
from azr.oversight.hub import OversightHub
from azr.oversight.pause import acknowledge, ensure_may_continue, read_pause
from azr.oversight.tripwire import Canary

__all__ = [
    "PAUSE_EXIT_CODE", "STOP_EXIT_CODE", "Action", "ActionKind", "Canary", "Decision", "Event", "Finding",
    "Monitor", "OversightConfig", "OversightConfigError", "OversightHub", "RunPausedError", "RunStoppedError",
    "Span", "acknowledge", "ensure_may_continue", "read_pause",
]
