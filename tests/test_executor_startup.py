"""How workers start: nothing from the caller's directory is imported, and a crashed
executor's scratch directories are cleaned up by the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile

import pytest

from azr.executor import Executor, ExecutorConfig, Snippet

pytestmark = pytest.mark.timeout(120)


def test_a_module_planted_in_the_working_directory_is_not_imported_by_workers(tmp_path, monkeypatch):
    marker = tmp_path / "imported-as-root"
    for name in ("textwrap", "azr_planted"):  # a preloaded stdlib name and a new one
        (tmp_path / f"{name}.py").write_text(f"open({str(marker)!r}, 'a').write({name!r})\n")
    monkeypatch.chdir(tmp_path)
    config = ExecutorConfig(workers=1, seed_slots=1)
    with Executor(config) as executor:
        result = executor.run(Snippet(code="import textwrap", call="textwrap.dedent(' x')"))
    assert result.value_repr == "'x'", result
    assert not marker.exists(), marker.read_text()
    with pytest.raises(Exception, match="azr_planted"):
        Executor(config.model_copy(update={"preload_modules": ["azr_planted"]}))
    assert not marker.exists(), marker.read_text()


_CRASHING = (
    "import sys, time\n"
    "from azr.executor import Executor, ExecutorConfig, Snippet\n"
    "ex = Executor(ExecutorConfig(workers=1, seed_slots=2))\n"
    "assert ex.run(Snippet(code=\"import os\\nos.makedirs('a/b/c')\\nopen('a/b/c/f', 'w').write('x')\")).ok\n"
    "print('\\n'.join(w.scratch_root for w in ex._workers), flush=True)\n"
    "time.sleep(60)\n"
)


def test_scratch_left_by_a_killed_executor_is_removed_by_the_next_one(tmp_path):
    crashing = subprocess.Popen([sys.executable, "-c", _CRASHING], stdout=subprocess.PIPE, text=True)
    try:
        roots = [crashing.stdout.readline().strip() for _ in range(2)]
        assert all(os.path.isdir(root) for root in roots), roots
    finally:
        crashing.send_signal(signal.SIGKILL)
        crashing.wait()
    live = tempfile.mkdtemp(prefix=f"azr-sandbox-{os.getpid()}-")  # ours: alive, so kept
    try:
        with Executor(ExecutorConfig(workers=1, seed_slots=1)):
            pass
        assert not any(os.path.lexists(root) for root in roots), roots
        assert os.path.isdir(live)
    finally:
        os.rmdir(live)
