"""Attacks a model-written program might try. Each asserts the attack failed AND the host is
unchanged. The snippets may import ``socket`` and ``subprocess`` (preloaded here on purpose),
so what stops them is the sandbox, not the import blocker or any AST policy.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import uuid
from pathlib import Path

import pytest

from azr.executor import Executor, ExecutorConfig, Snippet
from azr.executor.config import DEFAULT_PRELOAD

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def ex():
    config = ExecutorConfig(workers=1, seed_slots=1, memory_mb=768, max_output_bytes=4096,
                            preload_modules=DEFAULT_PRELOAD + ["socket", "subprocess"])
    with Executor(config) as executor:
        yield executor


def _need(ex: Executor, *layers: str) -> None:
    active = {layer.name for layer in ex.layers() if layer.active}
    missing = [name for name in layers if name not in active]
    if missing:
        pytest.skip(f"sandbox layer(s) {missing} not active on this host")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _marker() -> Path:
    return Path(tempfile.gettempdir()) / f"azr-pwned-{uuid.uuid4().hex}"


def test_tcp_connect_to_a_local_listener_fails(ex):
    _need(ex, "seccomp")
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(3.0)
    port = server.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        try:
            accepted.append(server.accept())
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    code = f"import socket\ns = socket.socket()\ns.connect(('127.0.0.1', {port}))\ns.sendall(b'stolen')"
    result = ex.run(Snippet(code=code, timeout_s=3))
    thread.join()
    server.close()
    assert not result.ok
    assert result.error_type == "PermissionError"
    assert accepted == []


def test_writes_outside_the_scratch_directory_fail(ex):
    targets = ["/etc/azr-pwned", "/root/azr-pwned", "/usr/azr-pwned", str(_marker()),
               str(Path(__file__).resolve().parent / "azr-pwned")]
    for target in targets:
        result = ex.run(Snippet(code=f"open({target!r}, 'w').write('x')"))
        assert not result.ok, target
        assert result.error_type == "PermissionError", (target, result)
        assert not os.path.exists(target)


def test_writes_inside_the_scratch_directory_work_and_vanish(ex):
    first = ex.run(Snippet(code="open('notes.txt', 'w').write('x')\nimport os\nos.mkdir('d')",
                           call="sorted(os.listdir('.'))"))
    assert first.ok and first.value_repr == "['d', 'notes.txt']"
    second = ex.run(Snippet(code="import os", call="os.listdir('.')"))
    assert second.value_repr == "[]"


def test_reading_a_planted_secret_outside_the_allow_list_fails(ex):
    _need(ex, "landlock-fs")
    directory = tempfile.mkdtemp(dir="/tmp")
    os.chmod(directory, 0o755)
    secret = Path(directory) / "secret.txt"
    secret.write_text("TOP-SECRET-42")
    os.chmod(secret, 0o644)  # readable by any uid: only Landlock stands in the way
    try:
        result = ex.run(Snippet(code=f"data = open({str(secret)!r}).read()\nprint(data)", call="data"))
    finally:
        secret.unlink()
        os.rmdir(directory)
    assert not result.ok
    assert result.error_type == "PermissionError"
    assert "TOP-SECRET" not in result.stdout + str(result.value_repr)


def test_fork_bomb_fails_and_leaves_no_process(ex):
    _need(ex, "seccomp")
    result = ex.run(Snippet(code="import os\nwhile True:\n    os.fork()", timeout_s=3))
    assert not result.ok
    assert result.error_type == "PermissionError"
    assert _children_of(ex.worker_pids()) == set()


def _children_of(parents: list[int]) -> set[int]:
    """Live processes whose parent is one of ``parents``."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) in parents:
                found.add(int(entry))
    return found


def test_os_system_and_subprocess_run_nothing(ex):
    _need(ex, "seccomp")
    marker = _marker()
    shell = ex.run(Snippet(code=f"import os\nstatus = os.system('touch {marker}')", call="status"))
    assert shell.ok and shell.value_repr != "0"
    spawn = ex.run(Snippet(code=f"import subprocess\nsubprocess.run(['touch', '{marker}'])"))
    assert not spawn.ok and spawn.error_type == "PermissionError"
    exec_ = ex.run(Snippet(code=f"import os\nos.execv('/usr/bin/touch', ['touch', '{marker}'])"))
    assert not exec_.ok and exec_.error_type == "PermissionError"
    assert not marker.exists()


def test_a_4_gb_allocation_is_stopped_by_the_memory_limit(ex):
    workers = ex.worker_pids()
    result = ex.run(Snippet(code="block = bytearray(4 * 1024 ** 3)"))
    assert not result.ok
    assert result.error_type == "MemoryError"
    assert result.killed_by_limit == "memory"
    assert ex.worker_pids() == workers and all(_alive(pid) for pid in workers)


def test_an_infinite_loop_is_killed_at_the_timeout(ex):
    result = ex.run(Snippet(code="while True:\n    pass", timeout_s=0.5))
    assert result.timed_out and result.killed_by_limit == "wall_time"
    assert 0.5 <= result.duration_s < 2.0
    assert ex.run(Snippet(code="x = 1", call="x")).value_repr == "1"


def test_signals_to_the_parent_and_the_host_fail(ex):
    _need(ex, "uid")
    workers = ex.worker_pids()
    me = os.getpid()
    code = ("import os, signal\nerrors = []\n"
            f"for target in (os.getppid(), {me}, 1):\n"
            "    try:\n        os.kill(target, signal.SIGKILL)\n"
            "    except PermissionError:\n        errors.append(target)\n"
            "os.kill(-1, signal.SIGKILL)\n")
    result = ex.run(Snippet(code=code, call="len(errors)"))
    assert result.ok and result.value_repr == "3"
    assert _alive(me) and all(_alive(pid) for pid in workers)
    assert ex.run(Snippet(code="", call="2 + 2")).value_repr == "4"


def test_megabytes_of_output_are_capped_and_stay_out_of_our_terminal(ex, capfd):
    result = ex.run(Snippet(code="import sys\nprint('x' * 5_000_000)\nsys.stderr.write('y' * 1_000_000)", call="7"))
    assert result.ok and result.value_repr == "7"
    assert result.stdout_truncated
    assert len(result.stdout) == ex.config.max_output_bytes
    captured = capfd.readouterr()
    assert "xxxx" not in captured.out + captured.err


def test_endless_output_is_killed(ex):
    result = ex.run(Snippet(code="while True:\n    print('x' * 65536)", timeout_s=20))
    assert result.killed_by_limit == "output"
    assert result.duration_s < 15


def test_runaway_recursion_fails_cleanly_and_a_stack_overflow_is_contained(ex):
    clean = ex.run(Snippet(code="def f(n):\n    return f(n + 1)", call="f(0)"))
    assert clean.error_type == "RecursionError"
    deep_repr = "import sys\nsys.setrecursionlimit(10**7)\nnested = []\nfor _ in range(300_000):\n    nested = [nested]"
    crash = ex.run(Snippet(code=deep_repr, call="nested", timeout_s=20))
    assert not crash.ok and crash.error_type == "Killed"
    assert ex.run(Snippet(code="", call="'still here'")).value_repr == "'still here'"


_FIND_OS = ("os_globals = [c for c in ().__class__.__bases__[0].__subclasses__()"
            " if c.__name__ == '_wrap_close'][0].__init__.__globals__\n")


def test_introspection_reaches_os_but_os_can_do_no_harm(ex):
    _need(ex, "seccomp", "landlock-fs")
    marker = _marker()
    probe = ex.run(Snippet(code=_FIND_OS, call="os_globals['__name__']"))
    assert probe.value_repr == "'os'"  # the escape itself works: the sandbox must contain it
    system = ex.run(Snippet(code=_FIND_OS + f"status = os_globals['system']('touch {marker}')", call="status"))
    assert system.ok and system.value_repr != "0"
    write = ex.run(Snippet(code=_FIND_OS + "b = os_globals['sys'].modules['builtins']\n"
                           f"b.open({str(marker)!r}, 'w').write('x')"))
    assert write.error_type == "PermissionError"
    raw_socket = ex.run(Snippet(code=_FIND_OS + "s = os_globals['sys'].modules['_socket']\n"
                                "s.socket(2, 1).connect(('127.0.0.1', 22))"))
    assert raw_socket.error_type == "PermissionError"
    builtins_escape = ex.run(Snippet(code="b = (lambda: 0).__globals__['__builtins__']\n"
                                     "imp = b.__import__ if hasattr(b, '__import__') else b['__import__']\n"
                                     "imp('os').execv('/bin/sh', ['sh'])"))
    assert builtins_escape.error_type == "PermissionError"
    assert not marker.exists()


def test_imports_other_than_preloaded_modules_fail_cleanly(ex):
    blocked = ex.run(Snippet(code="import xml.dom.minidom"))
    assert blocked.error_type == "ModuleNotFoundError"
    assert "not available in the sandbox" in blocked.error_message
    allowed = ex.run(Snippet(code="import math, collections, fractions", call="math.gcd(12, 18)"))
    assert allowed.value_repr == "6"
