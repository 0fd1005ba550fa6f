"""What runs inside each forked child: finish confinement, run one snippet, report.

The report goes to the result pipe as one JSON object; the fork-server trusts nothing in
it beyond its shape, since the snippet controlled this process when it was written.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
from importlib.abc import MetaPathFinder
from typing import Any, NoReturn

from azr.executor.confine import RESULT_FD, Plan, confine_child

SANDBOX_FAILURE_STATUS = 70


class _ImportBlocker(MetaPathFinder):
    """Answers every import that is not already loaded, with a message that says why."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        raise ModuleNotFoundError(
            f"module {fullname!r} is not available in the sandbox "
            "(only preloaded modules can be imported; see executor.preload_modules)",
            name=fullname,
        )


def run_child(plan: Plan, request: dict[str, Any], result_w: int, output_w: int, max_value_bytes: int) -> NoReturn:
    """Entry point after fork; never returns, whatever the snippet does."""
    try:
        try:
            confine_child(plan, result_w, output_w)
        except BaseException as exc:  # fail closed, and say which step failed
            _send(RESULT_FD, {"ok": False, "error_type": "SandboxError",
                              "error_message": f"confinement failed: {exc!r}"})
            os._exit(SANDBOX_FAILURE_STATUS)
        sys.meta_path[:] = [_ImportBlocker()]
        result = _execute(request, max_value_bytes)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # a snippet may have closed or replaced its streams
                pass
        _send(RESULT_FD, result)
    finally:
        os._exit(0)


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
        data = data[os.write(fd, data):]
