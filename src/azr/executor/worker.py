"""The fork-server: a long-lived, confined process that forks one child per snippet.

Started by :class:`azr.executor.pool.Executor`, which calls :func:`main` with the settings
as ``argv[1]`` from an interpreter whose ``sys.path`` holds nothing the caller chose.
It imports the modules children may use (after the uid drop a child could not read an
interpreter under a private home directory), confines itself (see
:mod:`azr.executor.confine`), then loops: read exactly one length-prefixed request, fork,
watch the child under a wall-clock deadline while draining its output, reap it, empty the
scratch directory, write one reply line. It exits when its parent closes the request pipe,
or after a reply that says ``retire`` (it can no longer give the next program a clean start).

This module must stay light: everything it imports is inherited by every child.
"""

from __future__ import annotations

import gc
import importlib
import io
import json
import os
import resource
import select
import signal
import sys
import sysconfig
import time
import warnings
from typing import Any

from azr.executor._libc import raw_fork, syscall
from azr.executor.child import (SANDBOX_FAILURE_STATUS, Compiled, compile_snippet, decode_report, repr_too_long,
                                run_child)
from azr.executor.confine import confine_worker
from azr.executor.scratch import clear_directory
from azr.executor.seccomp import syscall_number
from azr.executor.settings import WorkerSettings

_READ_CHUNK = 65536
_LIMIT_SIGNALS = {signal.SIGXCPU: "cpu_time", signal.SIGXFSZ: "file_size"}
_RLIMITS = sorted(name for name in dir(resource) if name.startswith("RLIMIT_"))
_IOPRIO_GET = syscall_number("ioprio_get")
_IOPRIO_WHO_PROCESS = 1
# Sources up to this many characters are compiled by the fork-server before the fork. The
# compiler's time grows faster than the source (nested lambdas are the worst case found:
# 4 ms at 1 KiB, 13 ms at 2 KiB, 45 ms at 4 KiB on this project's CPU), so the bound keeps
# the time a program can hold its worker outside its limits to a few milliseconds.
PRECOMPILE_MAX_CHARS = 2048


class _Watch:
    """Output and result bytes collected from one child, with their caps."""

    def __init__(self, output_cap: int, result_cap: int) -> None:
        self.output = bytearray()
        self.output_total = 0
        self.output_cap = output_cap
        self.result = bytearray()
        self.result_cap = result_cap
        self.result_overflow = False

    def take(self, is_output: bool, data: bytes) -> None:
        if is_output:
            self.output_total += len(data)
            room = self.output_cap - len(self.output)
            if room > 0:
                self.output += data[:room]
        elif len(self.result) + len(data) <= self.result_cap:
            self.result += data
        else:
            self.result_overflow = True


class ForkServer:
    """One confined worker: its plan for children and the scratch directory they share in turn."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self.plan, self.scratch_is_tmpfs = confine_worker(settings)
        self.state = own_state()

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        """Fork a child for one snippet and turn whatever happens to it into a reply.

        A short program is compiled here, before the fork and on the run's clock (see
        :func:`precompile`); every other one in the child, after confinement and under the
        run's time and memory limits, so a program built to compile slowly is one more
        program to stop at its deadline, not a worker stuck outside every limit.
        """
        start = time.monotonic()
        compiled = precompile(request["code"], request.get("call"))
        result_r, result_w = os.pipe()
        output_r, output_w = os.pipe()
        pid = raw_fork()
        if pid == 0:
            try:
                run_child(self.plan, request["code"], request.get("call"), compiled, result_w, output_w,
                          self.settings.max_value_bytes)
            finally:
                os._exit(SANDBOX_FAILURE_STATUS)
        del compiled
        os.close(result_w)
        os.close(output_w)
        watch = _Watch(self.settings.max_output_bytes, 8 * self.settings.max_value_bytes + 65536)
        limit = self._watch(pid, start + request["timeout_s"], result_r, output_r, watch)
        _, status, usage = os.wait4(pid, 0)
        duration = time.monotonic() - start
        self._drain(result_r, output_r, watch)
        _reap_orphans()
        cleared = clear_directory(self.settings.scratch)
        reply = _interpret(status, limit, watch, self.settings, usage.ru_maxrss << 10)
        if cleared.used_bytes > self.settings.max_scratch_bytes:  # only reachable without the tmpfs
            reply |= {"ok": False, "value_repr": None, "error_type": "ScratchLimit", "killed_by_limit": "scratch",
                      "error_message": f"the program left {cleared.used_bytes} bytes in its scratch directory; "
                                       f"the limit is {self.settings.max_scratch_bytes}"}
        reply["id"] = request["id"]
        reply["duration_s"] = duration
        if cleared.problems:  # the next program must not see them: this worker and its scratch go
            reply["retire"] = f"its scratch directory could not be emptied ({cleared.problems[0]})"
        elif own_state() != self.state:  # seccomp should make this impossible; never trust one layer
            reply["retire"] = "its own limits, priority, affinity or scheduling changed during the run"
        return reply

    def _watch(self, pid: int, deadline: float, result_r: int, output_r: int, watch: _Watch) -> str | None:
        """Drain the pipes until the child exits; kill its group on a limit. Returns that limit."""
        pidfd = os.pidfd_open(pid)
        poller = select.poll()
        for fd in (result_r, output_r, pidfd):
            poller.register(fd, select.POLLIN)
        kill_bytes = self.settings.output_kill_bytes
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    _kill_group(pid)
                    return "wall_time"
                for fd, _ in poller.poll(remaining * 1000):
                    if fd == pidfd:
                        return None
                    data = os.read(fd, _READ_CHUNK)
                    if not data:
                        poller.unregister(fd)
                    else:
                        watch.take(fd == output_r, data)
                if watch.output_total > kill_bytes:
                    _kill_group(pid)
                    return "output"
        finally:
            os.close(pidfd)

    @staticmethod
    def _drain(result_r: int, output_r: int, watch: _Watch) -> None:
        """Read what the dead child left in its pipes; every writer is gone, so EOF comes."""
        for fd in (result_r, output_r):
            while data := os.read(fd, _READ_CHUNK):
                watch.take(fd == output_r, data)
            os.close(fd)


def precompile(code: str, call: str | None) -> Compiled | None:
    """The code objects of a short, clean program, or None to leave compiling to the child.

    Compiling in a child costs every run a few hundred copy-on-write page faults (the
    compiler writes to memory shared with this process); compiling here, once, before the
    fork does not. Only sources up to ``PRECOMPILE_MAX_CHARS`` qualify, which bounds the
    time spent outside the child's limits. A program that fails to compile here, or that
    draws a warning (it would reach this process's stderr, not the program's output), is
    compiled again by its child, which reports it exactly as before.
    """
    if len(code) + len(call or "") > PRECOMPILE_MAX_CHARS:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return compile_snippet(code, call)
        except Exception:  # SyntaxError, a warning turned error, RecursionError, MemoryError
            return None


def own_state() -> tuple[object, ...]:
    """Everything about this process that a program could change to harm later programs:
    every rlimit, the nice value, CPU affinity, scheduling policy and I/O priority."""
    limits = tuple(resource.getrlimit(getattr(resource, name)) for name in _RLIMITS)
    ioprio = None if _IOPRIO_GET is None else syscall(_IOPRIO_GET, _IOPRIO_WHO_PROCESS, 0)
    return (limits, os.getpriority(os.PRIO_PROCESS, 0), frozenset(os.sched_getaffinity(0)),
            os.sched_getscheduler(0), os.sched_getparam(0).sched_priority, ioprio)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        os.kill(pid, signal.SIGKILL)


def _reap_orphans() -> None:
    """As a child subreaper we inherit any stray descendant; collect them so none lingers."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _interpret(status: int, limit: str | None, watch: _Watch, settings: WorkerSettings,
               peak_rss: int) -> dict[str, Any]:
    """Combine the child's own report with how it ended; the kernel's word wins on limits.

    The report is the program's word: it may have written any bytes to the result pipe.
    So a value past ``max_value_bytes`` is refused here too, and a ``MemoryError`` counts as
    the memory limit only when the kernel's peak resident size of the child (``wait4``)
    shows it really used at least half its address-space limit.
    """
    reply: dict[str, Any] = {
        "stdout": watch.output.decode("utf-8", "replace"),
        "stdout_truncated": watch.output_total > settings.max_output_bytes,
        "timed_out": limit == "wall_time",
        "killed_by_limit": limit,
    }
    if limit == "wall_time":
        return reply | {"ok": False, "error_type": "Timeout", "error_message": "the wall-clock limit was reached"}
    if limit == "output":
        return reply | {"ok": False, "error_type": "OutputLimit",
                        "error_message": f"the program printed {watch.output_total} bytes, past the kill limit"}
    report = decode_report(bytes(watch.result)) if watch.result and not watch.result_overflow else None
    if report is not None and os.WIFEXITED(status):
        value = report.get("value_repr")
        if value is not None and len(value) > settings.max_value_bytes:
            error_type, message = repr_too_long(len(value), settings.max_value_bytes)
            return reply | {"ok": False, "error_type": error_type, "error_message": message}
        if report.get("error_type") == "MemoryError" and 2 * peak_rss >= dict(settings.rlimits)["RLIMIT_AS"]:
            report["killed_by_limit"] = "memory"
        return reply | report
    if watch.result_overflow:
        return reply | {"ok": False, "error_type": "ResultTooLarge", "error_message": "the child's report was too large"}
    if os.WIFSIGNALED(status):
        sig = signal.Signals(os.WTERMSIG(status))
        return reply | {"ok": False, "error_type": "Killed", "killed_by_limit": _LIMIT_SIGNALS.get(sig),
                        "error_message": f"the process was killed by {sig.name}"}
    if os.WEXITSTATUS(status) == SANDBOX_FAILURE_STATUS:
        return reply | {"ok": False, "error_type": "SandboxError", "error_message": "the child could not be confined"}
    return reply | {"ok": False, "error_type": "Exited",
                    "error_message": f"the process exited with status {os.WEXITSTATUS(status)} before returning"}


def _preload(names: list[str]) -> None:
    for name in names:
        importlib.import_module(name)


def _default_read_paths() -> list[str]:
    """The interpreter's own libraries and the device files Python touches."""
    paths = sysconfig.get_paths()
    return [paths["stdlib"], paths["platstdlib"], sys.executable, "/dev/null", "/dev/urandom", "/dev/zero"]


def _arrange_fds() -> tuple[int, int]:
    """Requests on fd 3, replies on fd 4, /dev/null on 0 and our stderr on 1 and 2.

    With 0-4 taken, every pipe made later sits above 4, so a child can move its own pipes
    into 1-3 without clobbering one it still needs. The stream objects children print
    through are made here once, on fds 0-2, instead of in every child.
    """
    requests, replies = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(requests, 3)
    os.dup2(replies, 4)
    os.dup2(null, 0)
    os.dup2(2, 1)
    for fd in {requests, replies, null} - {0, 1, 2, 3, 4}:
        os.close(fd)
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace")
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace")
    return 3, 4


def main(argv: list[str]) -> int:
    raw = json.loads(argv[1])
    settings = WorkerSettings(**raw | {"rlimits": [tuple(pair) for pair in raw["rlimits"]],
                                       "read_paths": _default_read_paths() + raw["read_paths"]})
    requests, replies = _arrange_fds()
    try:
        _preload(settings.preload)
        server = ForkServer(settings)
    except Exception as exc:  # tell the parent why, instead of dying silently
        _reply(replies, {"fatal": f"worker could not start: {exc!r}"})
        return 1
    gc.freeze()
    _reply(replies, {"ready": os.getpid(), "scratch_tmpfs": server.scratch_is_tmpfs})
    try:
        while (frame := read_frame(requests)) is not None:
            reply = server.run(json.loads(frame))
            del frame
            _reply(replies, reply)
            if "retire" in reply:
                return 0
    except BrokenPipeError:
        pass
    return 0


def read_frame(fd: int) -> bytes | None:
    """One request: a 4-byte big-endian length, then that many bytes; None at end of input.

    Read with exact ``os.read`` calls and no buffered reader, so the next request stays in
    the kernel's pipe buffer: a child forked now has nothing of it in its memory or fds.
    """
    header = _read_exact(fd, 4)
    return None if header is None else _read_exact(fd, int.from_bytes(header, "big"))


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _reply(fd: int, payload: dict[str, Any]) -> None:
    data = memoryview(json.dumps(payload).encode() + b"\n")
    while data:
        data = data[os.write(fd, data):]
