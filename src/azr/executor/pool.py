"""The parent side: a warm pool of fork-server workers and the batch API.

Each seed slot has its own workers, started with their own ``PYTHONHASHSEED``. A batch is
spread over the workers of each snippet's slot, at most two requests in flight per worker
so a worker never waits for the parent between snippets. If a worker dies (or stops
answering), its in-flight snippets are re-run once on a fresh worker that replaces it; a
snippet that takes a second worker down with it is reported as lost, and the batch goes on.
"""

from __future__ import annotations

import json
import logging
import os
import selectors
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from azr.executor import landlock
from azr.executor import layers as layer_probe
from azr.executor.config import ExecutorConfig
from azr.executor.errors import ExecutorError
from azr.executor.scratch import remove_tree
from azr.executor.settings import WorkerSettings
from azr.executor.types import ExecResult, LayerStatus, Snippet
from azr.executor.uids import UidLease, lease_uids

log = logging.getLogger(__name__)

_PIPELINE_DEPTH = 2
_PIPELINE_MAX_FRAME = 16384
_GRACE_S = 2.0
_START_TIMEOUT_S = 30.0
# The worker imports as root, before it confines itself, so nothing of the caller's choosing
# may be on its sys.path: -P keeps the working directory off it, -s the user's site
# directory, and the environment carries no PYTHONPATH. Only the directory azr itself was
# loaded from is added. (-I would also do this, but it ignores PYTHONHASHSEED, which gives
# each seed slot its own hashes.)
_SCRATCH_PREFIX = "azr-sandbox-"  # + the owning executor's pid + "-": see remove_stale_scratch
_WORKER_ARGS = ("-P", "-s", "-c",
                "import sys; sys.path.insert(0, sys.argv[1]); "
                "from azr.executor.worker import main; sys.exit(main(sys.argv[1:]))")
_SOURCE_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass
class _Job:
    index: int
    frame: bytes
    timeout_s: float
    attempts: int = 0


@dataclass
class _Worker:
    slot: int
    number: int
    proc: subprocess.Popen[bytes]
    scratch_root: str
    inflight: deque[_Job] = field(default_factory=deque)
    buffer: bytearray = field(default_factory=bytearray)
    last_progress: float = field(default_factory=time.monotonic)
    ready: bool = False

    @property
    def fd(self) -> int:
        assert self.proc.stdout is not None
        return self.proc.stdout.fileno()

    def can_take(self, job: _Job) -> bool:
        if not self.inflight:
            return True
        small = len(job.frame) <= _PIPELINE_MAX_FRAME and all(len(j.frame) <= _PIPELINE_MAX_FRAME for j in self.inflight)
        return len(self.inflight) < _PIPELINE_DEPTH and small

    def deadline(self) -> float:
        """When the head job should long be finished, even counting the worker's own overhead
        (and, for a replacement still importing its modules, its start-up)."""
        start_up = 0.0 if self.ready else _START_TIMEOUT_S
        return self.last_progress + self.inflight[0].timeout_s + _GRACE_S + start_up


class Executor:
    """Runs batches of untrusted snippets in hardened, forked children of warm workers.

    Use as a context manager; :meth:`close` stops every worker and leaves no process behind.
    """

    def __init__(self, config: ExecutorConfig | None = None) -> None:
        self.config = config or ExecutorConfig()
        self._layers = layer_probe.probe(self.config)
        layer_probe.check(self.config, self._layers)
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._closed = False
        remove_stale_scratch()
        uid_layer = any(layer.name == "uid" and layer.active for layer in self._layers)
        size = self.config.seed_slots * self.config.workers
        self._uids: UidLease | None = lease_uids(self.config.sandbox_uid, size) if uid_layer else None
        self._finalizer = weakref.finalize(self, _stop_all, self._workers, self._uids)
        try:
            for slot in range(self.config.seed_slots):
                for number in range(self.config.workers):
                    self._workers.append(self._spawn(slot, number))
            for worker in self._workers:
                self._await_ready(worker)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def layers(self) -> list[LayerStatus]:
        """Every sandbox layer and whether it is active on this host."""
        return list(self._layers)

    def worker_pids(self) -> list[int]:
        """Process ids of the live fork-servers (for diagnostics and tests)."""
        return [w.proc.pid for w in self._workers]

    def run(self, snippet: Snippet) -> ExecResult:
        """Run one snippet; see :meth:`run_batch`."""
        return self.run_batch([snippet])[0]

    def run_batch(self, snippets: Sequence[Snippet]) -> list[ExecResult]:
        """Run every snippet; one result per snippet, in the order given."""
        with self._lock:
            if self._closed:
                raise ExecutorError("this executor is closed; create a new one")
            for snippet in snippets:
                if not 0 <= snippet.seed_slot < self.config.seed_slots:
                    raise ExecutorError(
                        f"snippet seed_slot {snippet.seed_slot} is outside 0..{self.config.seed_slots - 1}; "
                        "raise executor.seed_slots"
                    )
            return self._run_locked(snippets)

    def close(self) -> None:
        """Stop every worker and wait for it; safe to call twice."""
        with self._lock:
            self._closed = True
            self._finalizer()

    def _run_locked(self, snippets: Sequence[Snippet]) -> list[ExecResult]:
        results: list[ExecResult | None] = [None] * len(snippets)
        pending: dict[int, deque[_Job]] = {slot: deque() for slot in range(self.config.seed_slots)}
        for index, snippet in enumerate(snippets):
            pending[snippet.seed_slot].append(self._job(index, snippet))
        selector = selectors.DefaultSelector()
        try:
            while any(pending.values()) or any(w.inflight for w in self._workers):
                self._dispatch(pending, selector)
                timeout = min(w.deadline() for w in self._workers if w.inflight) - time.monotonic()
                for key, _ in selector.select(max(timeout, 0)):
                    self._receive(key.data, results, pending, selector)
                for worker in [w for w in self._workers if w.inflight and time.monotonic() > w.deadline()]:
                    log.warning("worker %d stopped answering; replacing it", worker.proc.pid)
                    self._replace(worker, results, pending, selector, hung=True)
        finally:
            selector.close()
        return [r if r is not None else ExecResult.worker_lost("the executor lost this result") for r in results]

    def _job(self, index: int, snippet: Snippet) -> _Job:
        timeout = snippet.timeout_s if snippet.timeout_s is not None else self.config.default_timeout_s
        frame = json.dumps({"id": index, "code": snippet.code, "call": snippet.call, "timeout_s": timeout}).encode()
        return _Job(index, len(frame).to_bytes(4, "big") + frame, timeout)

    def _dispatch(self, pending: dict[int, deque[_Job]], selector: selectors.BaseSelector) -> None:
        for worker in self._workers:
            queue = pending[worker.slot]
            while queue and worker.can_take(queue[0]):
                job = queue.popleft()
                if not worker.inflight:
                    worker.last_progress = time.monotonic()
                    selector.register(worker.fd, selectors.EVENT_READ, worker)
                worker.inflight.append(job)
                try:
                    assert worker.proc.stdin is not None
                    worker.proc.stdin.write(job.frame)
                    worker.proc.stdin.flush()
                except OSError:
                    break  # the worker is dead; reading its EOF will replace it

    def _receive(self, worker: _Worker, results: list[ExecResult | None], pending: dict[int, deque[_Job]],
                 selector: selectors.BaseSelector) -> None:
        chunk = os.read(worker.fd, 1 << 20)
        if not chunk:
            log.warning("worker %d died; replacing it", worker.proc.pid)
            self._replace(worker, results, pending, selector, hung=False)
            return
        worker.buffer += chunk
        while (end := worker.buffer.find(b"\n")) >= 0:
            message = json.loads(worker.buffer[:end])
            del worker.buffer[: end + 1]
            if "id" not in message:  # the first line of a replacement worker
                if "fatal" in message:
                    raise ExecutorError(f"a replacement sandbox worker failed: {message['fatal']}")
                worker.ready = True
                worker.last_progress = time.monotonic()
                continue
            job = worker.inflight.popleft()
            results[job.index] = _to_result(message)
            worker.last_progress = time.monotonic()
            if "retire" in message:
                log.warning("worker %d retires: %s; replacing it", worker.proc.pid, message["retire"])
                self._replace(worker, results, pending, selector, hung=False, retired=True)
                return
        if not worker.inflight:
            selector.unregister(worker.fd)

    def _replace(self, worker: _Worker, results: list[ExecResult | None], pending: dict[int, deque[_Job]],
                 selector: selectors.BaseSelector, *, hung: bool, retired: bool = False) -> None:
        """Retry the dead worker's jobs once elsewhere, and start a fresh worker in its place.

        A worker that ``retired`` answered its last job and read none of the rest, so no job
        still queued on it is to blame: none of them counts an attempt.
        """
        selector.unregister(worker.fd)
        _stop(worker)
        head = worker.inflight[0] if worker.inflight and not retired else None
        for job in reversed(worker.inflight):
            job.attempts += job is head
            if job is head and job.attempts > 1:
                results[job.index] = ExecResult.worker_lost(
                    "the snippet stopped its worker twice" + (" (no answer within its timeout)" if hung else ""),
                    timed_out=hung,
                )
            else:
                pending[worker.slot].appendleft(job)
        self._workers[self._workers.index(worker)] = self._spawn(worker.slot, worker.number)

    def _spawn(self, slot: int, number: int) -> _Worker:
        """Start one fork-server with its own scratch directory, uid and hash seed."""
        config = self.config
        active = {layer.name for layer in self._layers if layer.active}
        uid = self._uids.first + slot * config.workers + number if self._uids is not None else None
        root = tempfile.mkdtemp(prefix=f"{_SCRATCH_PREFIX}{os.getpid()}-")
        os.chmod(root, 0o711)
        scratch = os.path.join(root, "box")
        os.mkdir(scratch, 0o700)
        if uid is not None:
            os.chown(scratch, uid, uid)
        settings = WorkerSettings(
            scratch=scratch,
            uid=uid,
            landlock_abi=landlock.abi_version() if "landlock-fs" in active else 0,
            seccomp="seccomp" in active,
            rlimits=[("RLIMIT_AS", config.memory_mb << 20), ("RLIMIT_FSIZE", config.max_file_bytes),
                     ("RLIMIT_NOFILE", config.max_open_files), ("RLIMIT_CORE", 0),
                     ("RLIMIT_NPROC", config.max_threads)],
            cpu_time_s=config.cpu_time_s,
            preload=config.preload_modules,
            read_paths=config.extra_read_paths,
            max_output_bytes=config.max_output_bytes,
            output_kill_bytes=config.output_kill_bytes,
            max_value_bytes=config.max_value_bytes,
            max_scratch_bytes=config.max_scratch_bytes,
        )
        env = {"PYTHONHASHSEED": str(config.hash_seed_base + slot + 1), "PATH": os.environ.get("PATH", "/usr/bin"),
               "LANG": "C.UTF-8"}
        python = config.python or sys.executable
        try:
            proc = subprocess.Popen(
                [python, *_WORKER_ARGS, _SOURCE_ROOT, json.dumps(asdict(settings))],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, start_new_session=True, close_fds=True,
            )
        except OSError as exc:
            _remove_root(root)
            raise ExecutorError(f"cannot start a sandbox worker with {python}: {exc}") from exc
        return _Worker(slot, number, proc, root)

    def _await_ready(self, worker: _Worker) -> None:
        """Read the worker's first line; a worker that cannot start says why."""
        selector = selectors.DefaultSelector()
        selector.register(worker.fd, selectors.EVENT_READ)
        try:
            while b"\n" not in worker.buffer:
                if not selector.select(_START_TIMEOUT_S):
                    raise ExecutorError(f"a sandbox worker did not start within {_START_TIMEOUT_S:.0f}s")
                chunk = os.read(worker.fd, 65536)
                if not chunk:
                    raise ExecutorError("a sandbox worker exited during start-up; run with -vv for its stderr")
                worker.buffer += chunk
        finally:
            selector.close()
        end = worker.buffer.find(b"\n")
        message = json.loads(worker.buffer[:end])
        del worker.buffer[: end + 1]
        if "fatal" in message:
            raise ExecutorError(f"{message['fatal']} (check executor.preload_modules and executor.python)")
        if not message.get("scratch_tmpfs"):
            log.debug("worker %d has no scratch tmpfs; its disk use is checked after each run", worker.proc.pid)
        worker.ready = True


def _to_result(message: dict[str, Any]) -> ExecResult:
    return ExecResult(
        ok=bool(message.get("ok")),
        value_repr=message.get("value_repr"),
        stdout=message.get("stdout", ""),
        stdout_truncated=bool(message.get("stdout_truncated")),
        error_type=message.get("error_type"),
        error_message=message.get("error_message"),
        timed_out=bool(message.get("timed_out")),
        killed_by_limit=message.get("killed_by_limit"),
        duration_s=float(message.get("duration_s", 0.0)),
    )


def _stop(worker: _Worker) -> None:
    """Close the worker's request pipe (it exits on EOF); kill it if it does not."""
    proc = worker.proc
    for stream in (proc.stdin, proc.stdout):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
    try:
        proc.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    _remove_root(worker.scratch_root)


def remove_stale_scratch(directory: str | None = None) -> list[str]:
    """Remove the scratch trees of executors that died without closing (``kill -9``).

    Each tree is named after the pid of the executor that made it; a tree whose owner no
    longer runs is removed. Only root-owned or our own real directories are touched, never
    a symlink. Returns the trees removed.
    """
    directory = directory or tempfile.gettempdir()
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    for name in names:
        owner = name[len(_SCRATCH_PREFIX):].split("-", 1)[0]
        if not name.startswith(_SCRATCH_PREFIX) or not owner.isdigit() or _alive(int(owner)):
            continue
        path = os.path.join(directory, name)
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid():
            log.info("removing scratch %s left by executor %s, which no longer runs", path, owner)
            _remove_root(path)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_root(root: str) -> None:
    """Remove a worker's scratch tree; what a program left there is logged, never raised."""
    problems = remove_tree(root)
    if problems:
        log.warning("could not fully remove sandbox scratch %s: %s", root, "; ".join(problems[:3]))


def _stop_all(workers: list[_Worker], uids: UidLease | None) -> None:
    for worker in workers:
        _stop(worker)
    workers.clear()
    if uids is not None:
        uids.release()
