"""What runs inside each forked child: lock the process down, then run one snippet.

Order matters: new session, then the file descriptors the child keeps (everything else
inherited from the worker is closed), rlimits, the uid drop (which also needs the
parent-death signal re-armed), no_new_privs, Landlock, and seccomp last, because once it
is loaded even our own code cannot fork or exec. A failure of any step ends the child
before the snippet runs: the sandbox fails closed.
"""

from __future__ import annotations

import builtins
import fcntl
import io
import json
import os
import resource
import signal
import sys
from dataclasses import dataclass
from importlib.abc import MetaPathFinder
from typing import Any, NoReturn

from azr.executor import landlock
from azr.executor._libc import PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG, prctl
from azr.executor.seccomp import Filter

RESULT_FD = 3
_RULESET_FD = 4
_HIGH_FD = 100


@dataclass(frozen=True)
class Plan:
    """Everything a worker prepares once so each child only has to apply it."""

    scratch: str
    worker_pid: int
    devnull_fd: int
    rlimits: tuple[tuple[int, int], ...]
    uid: int | None
    ruleset_fd: int | None
    seccomp: Filter | None
    max_value_bytes: int


class _ImportBlocker(MetaPathFinder):
    """Answers every import that is not already loaded, with a message that says why."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        raise ModuleNotFoundError(
            f"module {fullname!r} is not available in the sandbox "
            "(only preloaded modules can be imported; see executor.preload_modules)",
            name=fullname,
        )


def run_child(plan: Plan, request: dict[str, Any], result_w: int, output_w: int) -> NoReturn:
    """Entry point after fork; never returns."""
    try:
        os.setsid()
        _keep_only_our_fds(plan, result_w, output_w)
    except BaseException:
        os._exit(70)
    try:
        _harden(plan)
    except BaseException as exc:  # fail closed, and say which step failed
        _send(RESULT_FD, {"ok": False, "error_type": "SandboxError", "error_message": f"hardening failed: {exc!r}"})
        os._exit(70)
    result = _execute(request, plan.max_value_bytes)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # a snippet may have closed or replaced its streams
            pass
    _send(RESULT_FD, result)
    os._exit(0)


def _keep_only_our_fds(plan: Plan, result_w: int, output_w: int) -> None:
    """Put stdin (/dev/null), stdout+stderr (output pipe), result pipe and ruleset at 0-4.

    Everything else the child inherited from the worker (its pipes to the parent, other
    snippets' descriptors) is closed. The copies above ``_HIGH_FD`` avoid clobbering a
    source that already sits at a low number.
    """
    keep = [plan.devnull_fd, output_w, output_w, result_w]
    if plan.ruleset_fd is not None:
        keep.append(plan.ruleset_fd)
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, _HIGH_FD) for fd in keep]
    for target, fd in enumerate(high):
        os.dup2(fd, target)
    os.closerange(len(keep), 1 << 20)


def _harden(plan: Plan) -> None:
    os.chdir(plan.scratch)
    for which, limit in plan.rlimits:
        resource.setrlimit(which, (limit, limit + 1 if which == resource.RLIMIT_CPU else limit))
    if plan.uid is not None:
        os.setgroups([])
        os.setresgid(plan.uid, plan.uid, plan.uid)
        os.setresuid(plan.uid, plan.uid, plan.uid)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != plan.worker_pid:
        os._exit(71)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    if plan.ruleset_fd is not None:
        landlock.restrict_self(_RULESET_FD)
        os.close(_RULESET_FD)
    if plan.seccomp is not None:
        plan.seccomp.install()
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace")
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace")
    sys.meta_path[:] = [_ImportBlocker()]


def _execute(request: dict[str, Any], max_value_bytes: int) -> dict[str, Any]:
    """Run the snippet in a fresh namespace; the worker's globals stay out of its reach."""
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    try:
        exec(compile(request["code"], "<snippet>", "exec"), namespace)
        if request.get("call") is None:
            return {"ok": True}
        text = repr(eval(compile(request["call"], "<call>", "eval"), namespace))
    except BaseException as exc:  # the snippet's own failure is a result, not our crash
        return _error(exc)
    if len(text) > max_value_bytes:
        return {"ok": False, "error_type": "ReprTooLong",
                "error_message": f"the value's repr has {len(text)} characters; the limit is {max_value_bytes}"}
    return {"ok": True, "value_repr": text}


def _error(exc: BaseException) -> dict[str, Any]:
    try:
        message = str(exc)[:4096]
    except BaseException:
        message = "<the exception's message could not be formatted>"
    return {"ok": False, "error_type": type(exc).__name__, "error_message": message}


def _send(fd: int, payload: dict[str, Any]) -> None:
    data = memoryview(json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    while data:
        written = os.write(fd, data)
        data = data[written:]
