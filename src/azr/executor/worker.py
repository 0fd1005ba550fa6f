"""The fork-server: a long-lived process that forks one hardened child per snippet.

Started by :class:`azr.executor.pool.Executor` as ``python -m azr.executor.worker SETTINGS``.
It imports the allowed modules once (so children need no file access to import them),
prepares the Landlock ruleset and seccomp filter once, then loops: read one request line,
fork, watch the child under a wall-clock deadline while draining its output, reap it,
write one reply line. It exits when its parent closes the request pipe.

This module must stay light: everything it imports is inherited by every child.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import resource
import select
import shutil
import signal
import sys
import sysconfig
import tempfile
import time
from typing import Any

from azr.executor import landlock
from azr.executor._libc import PR_SET_CHILD_SUBREAPER, prctl
from azr.executor.child import Plan, run_child
from azr.executor.seccomp import Filter

_READ_CHUNK = 65536
_LIMIT_SIGNALS = {signal.SIGXCPU: "cpu_time", signal.SIGXFSZ: "file_size"}


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
    """One worker's state: its plan for children and its scratch directory."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.root = tempfile.mkdtemp(prefix="azr-sandbox-")
        os.chmod(self.root, 0o711)
        self.scratch = os.path.join(self.root, "box")
        os.mkdir(self.scratch, 0o700)
        uid = settings["uid"]
        if uid is not None:
            os.chown(self.scratch, uid, uid)
        abi = settings["landlock_abi"]
        ruleset = landlock.build_ruleset(_read_paths(settings), self.scratch, abi) if abi else None
        devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        self.plan = Plan(
            scratch=self.scratch,
            worker_pid=os.getpid(),
            devnull_fd=devnull,
            rlimits=tuple((getattr(resource, name), value) for name, value in settings["rlimits"]),
            uid=uid,
            ruleset_fd=ruleset,
            seccomp=Filter() if settings["seccomp"] else None,
            max_value_bytes=settings["max_value_bytes"],
        )

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        """Fork a child for one snippet and turn whatever happens to it into a reply."""
        result_r, result_w = os.pipe()
        output_r, output_w = os.pipe()
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            run_child(self.plan, request, result_w, output_w)
        os.close(result_w)
        os.close(output_w)
        watch = _Watch(self.settings["max_output_bytes"], 8 * self.settings["max_value_bytes"] + 65536)
        limit = self._watch(pid, start + request["timeout_s"], result_r, output_r, watch)
        _, status = os.waitpid(pid, 0)
        duration = time.monotonic() - start
        self._drain(result_r, output_r, watch)
        _reap_orphans()
        self._wipe_scratch()
        reply = _interpret(status, limit, watch, self.settings["max_output_bytes"])
        reply["id"] = request["id"]
        reply["duration_s"] = duration
        return reply

    def _watch(self, pid: int, deadline: float, result_r: int, output_r: int, watch: _Watch) -> str | None:
        """Drain the pipes until the child exits; kill its group on a limit. Returns that limit."""
        pidfd = os.pidfd_open(pid)
        poller = select.poll()
        for fd in (result_r, output_r, pidfd):
            poller.register(fd, select.POLLIN)
        kill_bytes = self.settings["output_kill_bytes"]
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

    def _wipe_scratch(self) -> None:
        """Empty the scratch directory so the next snippet starts from nothing."""
        with os.scandir(self.scratch) as entries:
            leftovers = [entry.path for entry in entries]
        for path in leftovers:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _read_paths(settings: dict[str, Any]) -> list[str]:
    """The interpreter's own libraries, the device files Python touches, and the user's extras."""
    paths = {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"], sys.executable,
             "/dev/null", "/dev/urandom", "/dev/zero"}
    paths.update(settings["extra_read_paths"])
    return sorted(paths)


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


def _interpret(status: int, limit: str | None, watch: _Watch, output_cap: int) -> dict[str, Any]:
    """Combine the child's own report with how it ended; the kernel's word wins on limits."""
    reply: dict[str, Any] = {
        "stdout": watch.output.decode("utf-8", "replace"),
        "stdout_truncated": watch.output_total > output_cap,
        "timed_out": limit == "wall_time",
        "killed_by_limit": limit,
    }
    if limit == "wall_time":
        return reply | {"ok": False, "error_type": "Timeout", "error_message": "the wall-clock limit was reached"}
    if limit == "output":
        return reply | {"ok": False, "error_type": "OutputLimit",
                        "error_message": f"the program printed more than {watch.output_total} bytes"}
    if watch.result and not watch.result_overflow:
        try:
            report = json.loads(watch.result.decode("utf-8", "surrogatepass"))
        except ValueError:
            report = None
        if isinstance(report, dict) and os.WIFEXITED(status):
            reply.update({key: report.get(key) for key in ("ok", "value_repr", "error_type", "error_message")})
            reply["ok"] = reply["ok"] is True
            if reply["error_type"] == "MemoryError":
                reply["killed_by_limit"] = "memory"
            return reply
    if watch.result_overflow:
        return reply | {"ok": False, "error_type": "ResultTooLarge", "error_message": "the child's report was too large"}
    if os.WIFSIGNALED(status):
        sig = signal.Signals(os.WTERMSIG(status))
        return reply | {"ok": False, "error_type": "Killed", "killed_by_limit": _LIMIT_SIGNALS.get(sig),
                        "error_message": f"the process was killed by {sig.name}"}
    return reply | {"ok": False, "error_type": "Exited",
                    "error_message": f"the process exited with status {os.WEXITSTATUS(status)} before returning"}


def _preload(names: list[str]) -> None:
    for name in names:
        importlib.import_module(name)


def main(argv: list[str]) -> int:
    settings = json.loads(argv[1])
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    try:
        _preload(settings["preload"])
        server = ForkServer(settings)
    except Exception as exc:  # tell the parent why, instead of dying silently
        _reply(replies, {"fatal": f"worker could not start: {exc!r}"})
        return 1
    gc.freeze()
    _reply(replies, {"ready": os.getpid()})
    try:
        for line in requests:
            _reply(replies, server.run(json.loads(line)))
    except BrokenPipeError:
        pass
    finally:
        server.close()
    return 0


def _reply(fd: int, payload: dict[str, Any]) -> None:
    data = memoryview(json.dumps(payload).encode() + b"\n")
    while data:
        data = data[os.write(fd, data):]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
