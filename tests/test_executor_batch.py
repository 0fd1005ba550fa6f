"""The batch API: order, isolation between snippets, determinism slots, worker recovery."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from azr.executor import Executor, ExecutorConfig, Snippet
from azr.executor.errors import ExecutorError

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def ex():
    with Executor(ExecutorConfig(workers=2, seed_slots=2)) as executor:
        yield executor


def test_identity_program_returns_the_repr_of_its_value(ex):
    [result] = ex.run_batch([Snippet(code="def f(a):\n    return a", call="f('Hello world')")])
    assert result.ok and result.value_repr == "'Hello world'"
    assert result.error_type is None and not result.timed_out


def test_results_come_back_in_the_order_given(ex):
    snippets = [Snippet(code=f"import time\ntime.sleep({(i % 3) * 0.01})", call=f"{i} * {i}",
                        seed_slot=i % 2) for i in range(40)]
    results = ex.run_batch(snippets)
    assert [r.value_repr for r in results] == [str(i * i) for i in range(40)]


def test_a_crash_loses_no_other_result(ex):
    crashes = ["import os\nos._exit(3)", "import os\nos.abort()", "raise SystemExit(2)",
               "import ctypes\nctypes.string_at(0)", "raise ValueError('bad input')"]
    snippets = []
    for i, crash in enumerate(crashes):
        snippets += [Snippet(code=crash), Snippet(code="", call=str(i))]
    results = ex.run_batch(snippets)
    assert [r.value_repr for r in results[1::2]] == [str(i) for i in range(len(crashes))]
    assert all(not r.ok for r in results[0::2])
    assert [r.error_type for r in results[0::2]] == ["Exited", "Killed", "SystemExit", "Killed", "ValueError"]
    assert results[-2].error_message == "bad input"


def test_each_snippet_gets_a_fresh_namespace(ex):
    first, second = ex.run_batch([Snippet(code="leak = 1\nimport builtins\nbuiltins.len = None"),
                                  Snippet(code="", call="('leak' in globals(), len('abc'))")])
    assert first.ok and second.value_repr == "(False, 3)"
    [names] = ex.run_batch([Snippet(code="", call="sorted(k for k in globals() if not k.startswith('__'))")])
    assert names.value_repr == "[]"


def test_seed_slots_run_in_processes_with_different_hash_seeds(ex):
    code = "import os\nvalue = (hash('azr'), os.getppid())"
    results = ex.run_batch([Snippet(code=code, call="value", seed_slot=s) for s in (0, 1, 0, 1)])
    hashes = [eval(r.value_repr)[0] for r in results]
    parents = [eval(r.value_repr)[1] for r in results]
    assert hashes[0] == hashes[2] and hashes[1] == hashes[3]
    assert hashes[0] != hashes[1]
    assert not {parents[0], parents[2]} & {parents[1], parents[3]}


def test_unknown_seed_slot_is_refused(ex):
    with pytest.raises(ExecutorError, match="seed_slot 5"):
        ex.run_batch([Snippet(code="", seed_slot=5)])


def test_a_killed_worker_is_replaced_and_the_batch_completes(ex):
    before = ex.worker_pids()
    snippets = [Snippet(code="import time\ntime.sleep(0.05)", call=str(i), seed_slot=0) for i in range(30)]

    def kill_a_worker() -> None:
        time.sleep(0.2)
        os.kill(before[0], signal.SIGKILL)

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    results = ex.run_batch(snippets)
    killer.join()
    assert [r.value_repr for r in results] == [str(i) for i in range(30)]
    after = ex.worker_pids()
    assert before[0] not in after and len(after) == len(before)
    assert ex.run(Snippet(code="", call="'alive'", seed_slot=0)).value_repr == "'alive'"


def test_printed_output_is_captured_not_shown(ex, capfd):
    result = ex.run(Snippet(code="import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)"))
    assert result.stdout == "to stdout\nto stderr\n" and not result.stdout_truncated
    captured = capfd.readouterr()
    assert "to stdout" not in captured.out + captured.err


def test_default_timeout_comes_from_the_config():
    with Executor(ExecutorConfig(workers=1, seed_slots=1, default_timeout_s=0.3)) as executor:
        result = executor.run(Snippet(code="while True:\n    pass"))
    assert result.timed_out and result.duration_s < 1.5


def test_cpu_limit_kills_a_busy_loop():
    with Executor(ExecutorConfig(workers=1, seed_slots=1, cpu_time_s=1)) as executor:
        result = executor.run(Snippet(code="while True:\n    pass", timeout_s=10))
    assert result.killed_by_limit == "cpu_time" and not result.timed_out


def test_close_leaves_no_process_and_no_scratch_directory():
    executor = Executor(ExecutorConfig(workers=1, seed_slots=2))
    pids = executor.worker_pids()
    roots = [w.scratch_root for w in executor._workers]
    assert executor.run(Snippet(code="open('f', 'w').write('x')")).ok
    executor.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not any(os.path.exists(root) for root in roots)
    with pytest.raises(ExecutorError, match="closed"):
        executor.run(Snippet(code=""))


def test_a_frozen_worker_is_replaced_after_its_deadline():
    with Executor(ExecutorConfig(workers=1, seed_slots=1)) as executor:
        [frozen] = executor.worker_pids()
        os.kill(frozen, signal.SIGSTOP)
        start = time.monotonic()
        results = executor.run_batch([Snippet(code="", call=str(i), timeout_s=0.5) for i in range(3)])
        elapsed = time.monotonic() - start
        assert [r.value_repr for r in results] == ["0", "1", "2"]
        assert frozen not in executor.worker_pids()
    assert elapsed < 10
