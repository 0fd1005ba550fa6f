"""An UNSANDBOXED, in-process stand-in for the executor, for unit tests of azr.tasks only.

It runs trusted test programs with ``exec`` in this process: no isolation, and every seed
slot shares this process's hash seed, so it cannot expose non-determinism. Tests that
need those properties use the real :class:`azr.executor.pool.Executor`.
"""

from __future__ import annotations

import signal
from typing import Sequence

from azr.executor.types import ExecResult, Snippet

DEFAULT_TIMEOUT_S = 5.0  # the executor config's default_timeout_s, for snippets that leave it unset


class _Timeout(BaseException):
    pass


def _on_alarm(signum: int, frame: object) -> None:
    raise _Timeout()


class InProcessTestRunner:
    """Runs snippets with ``exec``; counts batches so tests can assert batching."""

    def __init__(self) -> None:
        self.batches: list[list[Snippet]] = []

    def run_batch(self, snippets: Sequence[Snippet]) -> list[ExecResult]:
        self.batches.append(list(snippets))
        return [self._run(s) for s in snippets]

    def _run(self, snippet: Snippet) -> ExecResult:
        namespace: dict[str, object] = {"__name__": "__main__"}
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, snippet.timeout_s if snippet.timeout_s is not None else DEFAULT_TIMEOUT_S)
        try:
            exec(compile(snippet.code, "<snippet>", "exec"), namespace)
            value = eval(snippet.call, namespace) if snippet.call else None
            return ExecResult(ok=True, value_repr=repr(value) if snippet.call else None)
        except _Timeout:
            return ExecResult(ok=False, timed_out=True, error_type="TimeoutError")
        except Exception as exc:  # the snippet's own failure is the result under test
            return ExecResult(ok=False, error_type=type(exc).__name__, error_message=str(exc))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
