"""Joining (or starting) the Ray cluster a run uses, with errors that name the fix."""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Any, Iterator

from azr.errors import ConfigError

log = logging.getLogger(__name__)

INSTALL_HINT = "install it with: pip install 'azr[ray]' (make setup does)"


class RayUnavailableError(ConfigError):
    """cluster.ray was set, but Ray is missing or its cluster cannot be reached."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError as error:
        raise RayUnavailableError(f"cluster.ray is set, but Ray does not import ({error}); {INSTALL_HINT}") from error
    return ray


@contextlib.contextmanager
def ray_session(address: str) -> Iterator[Any]:
    """Connect for the length of a run; a cluster this run started is shut down after it.

    ``local`` starts a private cluster on this machine; anything else is passed to
    ``ray.init`` as the address of a running one, so a typo fails here rather than
    silently starting a one-machine cluster. Already connected (a test's cluster, a
    notebook): reuse that connection and leave it running.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    # Driver-side logs of actors go through our logging, not straight onto the terminal.
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    try:
        if address == "local":
            ray.init(**options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise RayUnavailableError(
            f"cannot join the Ray cluster at cluster.ray={address!r} ({error}); start one with `ray start --head`, "
            "pass its address, or use cluster.ray=local for a private one on this machine"
        ) from error
    log.info("joined Ray cluster %s: %d node(s)", address, len(alive_nodes(ray)))
    try:
        yield ray
    finally:
        ray.shutdown()


def alive_nodes(ray: Any) -> list[dict[str, Any]]:
    return [node for node in ray.nodes() if node.get("Alive")]
