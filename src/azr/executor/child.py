"""What runs inside each forked child: finish confinement, run one snippet, report.

The report goes to the result pipe in a tiny format (see :func:`encode_report`), not JSON:
every page a child touches is a copy-on-write fault, and the JSON encoder touches many.
The fork-server trusts nothing in a report beyond its shape, since the snippet controlled
this process when it was written.
"""

from __future__ import annotations

import builtins
import os
import sys
from importlib.abc import MetaPathFinder
from types import CodeType
from typing import Any, NoReturn

from azr.executor.confine import RESULT_FD, Plan, confine_child

SANDBOX_FAILURE_STATUS = 70

Compiled = tuple[CodeType, CodeType | None]


class _ImportBlocker(MetaPathFinder):
    """Answers every import that is not already loaded, with a message that says why."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        raise ModuleNotFoundError(
            f"module {fullname!r} is not available in the sandbox "
            "(only preloaded modules can be imported; see executor.preload_modules)",
            name=fullname,
        )


def run_child(plan: Plan, code: str, call: str | None, compiled: Compiled | None, result_w: int,
              output_w: int, max_value_bytes: int) -> NoReturn:
    """Entry point after fork; never returns, whatever the snippet does. ``compiled`` is the
    fork-server's compilation of ``code`` and ``call`` when it made one (see
    :func:`azr.executor.worker.precompile`); without it the child compiles them itself."""
    try:
        try:
            confine_child(plan, result_w, output_w)
        except BaseException as exc:  # fail closed, and say which step failed
            _send(RESULT_FD, encode_report(error=("SandboxError", f"confinement failed: {exc!r}")))
            os._exit(SANDBOX_FAILURE_STATUS)
        sys.meta_path[:] = [_ImportBlocker()]
        result = _execute(code, call, compiled, max_value_bytes)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # a snippet may have closed or replaced its streams
                pass
        _send(RESULT_FD, result)
    finally:
        os._exit(0)


def compile_snippet(code: str, call: str | None) -> Compiled:
    """The program and its call as code objects, compiled as plain Python would compile them:
    with ``dont_inherit`` no ``__future__`` flag of azr's own modules leaks into a snippet
    (``annotations`` would let ``def f(x: Undefined)`` run here and fail everywhere else)."""
    program = compile(code, "<snippet>", "exec", dont_inherit=True)
    return program, None if call is None else compile(call, "<call>", "eval", dont_inherit=True)


def _execute(code: str, call: str | None, compiled: Compiled | None, max_value_bytes: int) -> bytes:
    """Run the snippet in a fresh namespace; the worker's globals stay out of its reach. A
    program that does not compile (syntax, null bytes, nesting too deep) reports that like
    any other exception."""
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    try:
        program, expression = compiled if compiled is not None else compile_snippet(code, call)
        exec(program, namespace)
        if expression is None:
            return encode_report()
        text = repr(eval(expression, namespace))
    except BaseException as exc:  # the snippet's own failure is a result, not our crash
        return encode_report(error=(type(exc).__name__, _message(exc)))
    if len(text) > max_value_bytes:  # checked again by the worker, which trusts no report
        return encode_report(error=repr_too_long(len(text), max_value_bytes))
    return encode_report(value=text)


def repr_too_long(length: int, limit: int) -> tuple[str, str]:
    """The error for a value whose repr is past ``max_value_bytes``."""
    return "ReprTooLong", f"the value's repr has {length} characters; the limit is {limit}"


def _message(exc: BaseException) -> str:
    try:
        return str(exc)[:4096]
    except BaseException:
        return "<the exception's message could not be formatted>"


def encode_report(*, value: str | None = None, error: tuple[str, str] | None = None) -> bytes:
    """``V`` + value repr, ``N`` (ran, nothing to return) or ``E`` + type + NUL + message."""
    if error is not None:
        return b"E" + f"{error[0]}\0{error[1]}".encode("utf-8", "surrogatepass")
    return b"N" if value is None else b"V" + value.encode("utf-8", "surrogatepass")


def decode_report(data: bytes) -> dict[str, Any] | None:
    """The fields of :class:`ExecResult` a child reports, or None if ``data`` is malformed."""
    text = data[1:].decode("utf-8", "replace")
    if data[:1] == b"V":
        return {"ok": True, "value_repr": text}
    if data == b"N":
        return {"ok": True}
    if data[:1] == b"E" and "\0" in text:
        error_type, message = text.split("\0", 1)
        return {"ok": False, "error_type": error_type, "error_message": message}
    return None


def _send(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
