"""Attacks a model-written program might try. Each asserts the attack failed AND the host is
unchanged. The snippets may import ``socket`` and ``subprocess`` (preloaded here on purpose),
so what stops them is the sandbox, not the import blocker or any AST policy.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from azr.executor import Executor, ExecutorConfig, Snippet
from azr.executor.config import DEFAULT_PRELOAD
from azr.tasks.safety import SafetyPolicy

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
    """Refused at once, so the kernel saw no memory used: the program's own MemoryError, with
    no limit label (the worker cannot tell it from ``raise MemoryError``)."""
    workers = ex.worker_pids()
    result = ex.run(Snippet(code="block = bytearray(4 * 1024 ** 3)"))
    assert not result.ok
    assert result.error_type == "MemoryError"
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


# --- reaching other processes, host sockets, and state that outlives a program ---------

_ATTEMPT = ("import ctypes, os, resource, socket, array, time\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "outcome = {}\n"
            "def attempt(name, fn):\n"
            "    try:\n"
            "        fn()\n"
            "        outcome[name] = 'ok'\n"
            "    except OSError as exc:\n"
            "        outcome[name] = exc.errno\n"
            "def raw(number, *args):\n"
            "    if libc.syscall(number, *args) < 0:\n"
            "        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))\n")
_IOPRIO_SET, _IOPRIO_GET, _IOPRIO_IDLE = 251, 252, 3 << 13
_SYSV_TABLES = ("shm", "msg", "sem")


def _attempts(ex: Executor, body: str) -> dict[str, object]:
    """Run ``body`` after :data:`_ATTEMPT` and return its ``outcome`` dict (name -> 'ok' or errno)."""
    result = ex.run(Snippet(code=_ATTEMPT + body, call="outcome", timeout_s=5))
    assert result.ok, result
    return eval(result.value_repr)  # a dict of str -> str | int, printed by our own snippet


def _ioprio(pid: int) -> int:
    value = ctypes.CDLL(None, use_errno=True).syscall(_IOPRIO_GET, 1, pid)
    assert value >= 0, ctypes.get_errno()
    return value


def _process_state(pid: int) -> tuple[object, ...]:
    """What a program must not be able to change about its worker."""
    return (Path(f"/proc/{pid}/limits").read_text(), os.getpriority(os.PRIO_PROCESS, pid),
            os.sched_getaffinity(pid), os.sched_getscheduler(pid), _ioprio(pid))


@pytest.fixture
def fresh():
    """An executor of its own, so a test that poisons its worker (on weaker code) spoils no other test."""
    config = ExecutorConfig(workers=1, seed_slots=1, memory_mb=768, preload_modules=DEFAULT_PRELOAD + ["socket"])
    with Executor(config) as executor:
        yield executor


def test_a_program_cannot_change_its_worker_or_other_processes_of_its_uid(fresh):
    _need(fresh, "seccomp")
    [worker] = fresh.worker_pids()
    before = _process_state(worker)
    outcome = _attempts(fresh, (
        "target = os.getppid()\n"
        "attempt('prlimit', lambda: resource.prlimit(target, resource.RLIMIT_FSIZE, (1, 1)))\n"
        "attempt('setpriority', lambda: os.setpriority(os.PRIO_PROCESS, target, 19))\n"
        "attempt('setpriority_user', lambda: os.setpriority(os.PRIO_USER, 0, 19))\n"
        f"attempt('setpriority_pgrp', lambda: os.setpriority(os.PRIO_PGRP, {os.getpgid(worker)}, 19))\n"
        "attempt('setaffinity', lambda: os.sched_setaffinity(target, {0}))\n"
        "attempt('setscheduler', lambda: os.sched_setscheduler(target, os.SCHED_IDLE, os.sched_param(0)))\n"
        "attempt('setparam', lambda: os.sched_setparam(target, os.sched_param(0)))\n"
        f"attempt('ioprio', lambda: raw({_IOPRIO_SET}, 1, target, {_IOPRIO_IDLE}))\n"
        f"attempt('ioprio_user', lambda: raw({_IOPRIO_SET}, 3, 0, {_IOPRIO_IDLE}))\n"
        f"attempt('ioprio_pgrp', lambda: raw({_IOPRIO_SET}, 2, {os.getpgid(worker)}, {_IOPRIO_IDLE}))\n"))
    assert outcome and all(value == errno.EPERM for value in outcome.values()), outcome
    assert _process_state(worker) == before
    assert fresh.run(Snippet(code="open('big', 'w').write('x' * 100_000)", call="1")).ok


def test_a_program_may_still_change_itself(ex):
    _need(ex, "seccomp")
    outcome = _attempts(ex, (
        "attempt('setrlimit', lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32)))\n"
        "attempt('prlimit_self', lambda: resource.prlimit(0, resource.RLIMIT_FSIZE, (4096, 4096)))\n"
        "attempt('nice', lambda: os.nice(1))\n"
        "attempt('setpriority_self', lambda: os.setpriority(os.PRIO_PROCESS, 0, 5))\n"
        "attempt('affinity_self', lambda: os.sched_setaffinity(0, os.sched_getaffinity(0)))\n"
        "attempt('getsid_self', lambda: os.getsid(0))\n"
        "attempt('thread', lambda: __import__('threading').Thread(target=print).start())\n"))
    assert set(outcome.values()) == {"ok"}, outcome


def test_host_processes_cannot_be_enumerated_by_pid(ex):
    """Each probe answers the same for a live host process as for a pid that does not exist."""
    _need(ex, "seccomp")
    probes = {"getsid": "os.getsid({})", "getpgid": "os.getpgid({})",
              "getpriority": "os.getpriority(os.PRIO_PROCESS, {})", "getaffinity": "os.sched_getaffinity({})",
              "getscheduler": "os.sched_getscheduler({})", "prlimit": "resource.prlimit({}, resource.RLIMIT_NOFILE)",
              "pidfd_open": "os.close(os.pidfd_open({}))", "ioprio_get": f"raw({_IOPRIO_GET}, 1, {{}})",
              "setpgid": "os.setpgid({}, 0)",
              "capget": "raw(125, (ctypes.c_uint32 * 2)(0x20080522, {}), (ctypes.c_uint32 * 6)())"}
    absent = int(Path("/proc/sys/kernel/pid_max").read_text()) - 1
    assert not _alive(absent)
    body = "".join(f"attempt('{name}@{pid}', lambda: {call.format(pid)})\n"
                   for name, call in probes.items() for pid in (os.getpid(), 1, absent))
    outcome = _attempts(ex, body)
    for name in probes:
        answers = {outcome[f"{name}@{pid}"] for pid in (os.getpid(), 1, absent)}
        assert answers == {errno.EPERM}, (name, answers)


def test_inotify_and_fanotify_are_refused(ex):
    _need(ex, "seccomp")
    outcome = _attempts(ex, ("attempt('inotify_init1', lambda: raw(294, 0))\n"
                             "attempt('inotify_init', lambda: raw(253))\n"
                             "attempt('fanotify_init', lambda: raw(300, 0, 0))\n"))
    assert set(outcome.values()) == {errno.EPERM}, outcome


@pytest.fixture
def host_sockets():
    """Listening host sockets a sandboxed program can name: pathname stream and datagram
    sockets in a world-searchable directory, and an abstract-name stream socket."""
    directory = tempfile.mkdtemp(prefix="azr-sock-", dir="/tmp")
    os.chmod(directory, 0o755)
    stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stream.bind(os.path.join(directory, "stream.sock"))
    stream.listen(4)
    dgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dgram.bind(os.path.join(directory, "dgram.sock"))
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind(f"\0azr-test-{uuid.uuid4().hex}")
    abstract.listen(4)
    for name in ("stream.sock", "dgram.sock"):
        os.chmod(os.path.join(directory, name), 0o777)
    sockets = {"stream": stream, "dgram": dgram, "abstract": abstract}
    for sock in sockets.values():
        sock.setblocking(False)
    yield sockets
    for sock in sockets.values():
        sock.close()
    shutil.rmtree(directory)


def _received(sock: socket.socket) -> bool:
    """Whether a connection or a datagram is waiting on ``sock``."""
    try:
        if sock.type == socket.SOCK_DGRAM:
            sock.recv(4096)
        else:
            sock.accept()[0].close()
    except BlockingIOError:
        return False
    return True


def test_host_unix_sockets_cannot_be_reached(ex, host_sockets):
    _need(ex, "seccomp")
    stream, dgram, abstract = (host_sockets[k].getsockname() for k in ("stream", "dgram", "abstract"))
    outcome = _attempts(ex, (
        "def stream(address):\n"
        "    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "    s.connect(address)\n"
        "    s.sendall(b'stolen')\n"
        "    s.sendmsg([b'fd'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [1]))])\n"
        "def dgram(address):\n"
        "    socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b'stolen', address)\n"
        "def paired(address):\n"
        "    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
        "    a.sendto(b'stolen', address)\n"
        f"attempt('stream', lambda: stream({stream!r}))\n"
        f"attempt('dgram', lambda: dgram({dgram!r}))\n"
        f"attempt('socketpair_dgram', lambda: paired({dgram!r}))\n"
        f"attempt('abstract', lambda: stream({abstract!r}))\n"
        "attempt('raw_socket', lambda: raw(41, 1, 1, 0))\n"))
    assert outcome and "ok" not in outcome.values(), outcome
    assert not any(_received(sock) for sock in host_sockets.values())


def test_an_abstract_name_bound_in_the_sandbox_cannot_be_reached_from_the_host(ex):
    _need(ex, "seccomp")
    name = f"\0azr-test-{uuid.uuid4().hex}"
    reached: list[bytes] = []
    stop = threading.Event()

    def dial() -> None:
        while not stop.is_set():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                try:
                    client.connect(name)
                    reached.append(client.recv(16))
                    return
                except OSError:
                    time.sleep(0.02)

    thread = threading.Thread(target=dial)
    thread.start()
    code = ("import socket, time\ns = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
            f"s.bind({name!r})\ns.listen(1)\nconn, _ = s.accept()\nconn.sendall(b'hello host')")
    result = ex.run(Snippet(code=code, timeout_s=2))
    stop.set()
    thread.join()
    assert not result.ok and result.error_type == "PermissionError", result
    assert reached == []


def _sysv_ids() -> dict[str, set[str]]:
    tables = {}
    for table in _SYSV_TABLES:
        lines = Path(f"/proc/sysvipc/{table}").read_text().splitlines()[1:]
        tables[table] = {line.split()[1] for line in lines}
    return tables


def test_system_v_and_posix_ipc_objects_cannot_be_created(ex):
    _need(ex, "seccomp")
    before = _sysv_ids()
    outcome = _attempts(ex, (
        "attempt('shmget', lambda: raw(29, 0, 64 << 20, 0o1666))\n"   # IPC_PRIVATE, IPC_CREAT | 0666
        "attempt('msgget', lambda: raw(68, 0, 0o1666))\n"
        "attempt('semget', lambda: raw(64, 0, 1, 0o1666))\n"
        "attempt('mq_open', lambda: raw(240, b'azr-test-queue', os.O_CREAT | os.O_RDWR, 0o666, None))\n"))
    leaked = {table: _sysv_ids()[table] - ids for table, ids in before.items()}
    assert set(outcome.values()) == {errno.EPERM}, outcome
    assert leaked == {table: set() for table in _SYSV_TABLES}
    assert not Path("/dev/mqueue/azr-test-queue").exists()


def test_memory_cannot_be_held_in_memfds_past_the_address_space_limit():
    """memfd pages are in no mapping, so RLIMIT_AS does not see them (RLIMIT_FSIZE caps each one)."""
    config = ExecutorConfig(workers=1, seed_slots=1, memory_mb=256)
    code = ("import os\nheld, error, fds = 0, None, []\ntry:\n    for _ in range(60):\n"
            "        fds.append(os.memfd_create('hoard'))\n"
            "        for _ in range(8):\n            held += os.write(fds[-1], bytes(1 << 20))\n"
            "except OSError as exc:\n    error = exc.errno\n")
    with Executor(config) as executor:
        _need(executor, "seccomp")
        result = executor.run(Snippet(code=code, call="held >> 20, error", timeout_s=20))
    assert result.value_repr == f"(0, {errno.EPERM})", result


def test_an_extended_attribute_on_the_scratch_directory_does_not_reach_the_next_program(ex):
    _need(ex, "seccomp")
    first = ex.run(Snippet(code="import os\nos.setxattr('.', 'user.azr', b'left behind')"))
    second = ex.run(Snippet(code="import os", call="os.getxattr('.', 'user.azr')"))
    assert not first.ok and first.error_type == "OSError", first
    assert not second.ok and "left behind" not in str(second.value_repr)


def test_metadata_of_world_writable_host_files_cannot_be_changed(ex):
    _need(ex, "seccomp")
    directory = tempfile.mkdtemp(prefix="azr-meta-", dir="/tmp")
    os.chmod(directory, 0o755)
    target = Path(directory) / "shared.txt"
    target.write_text("host data")
    os.chmod(target, 0o666)
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    before = os.stat(target)
    try:
        outcome = _attempts(ex, (
            f"attempt('utime', lambda: os.utime({str(target)!r}))\n"
            f"attempt('utime_fd', lambda: os.utime(os.open({str(target)!r}, os.O_RDONLY)))\n"
            f"attempt('setxattr', lambda: os.setxattr({str(target)!r}, 'user.azr', b'x'))\n"
            f"attempt('removexattr', lambda: os.removexattr({str(target)!r}, 'user.azr'))\n"))
        after = os.stat(target)
        xattrs = os.listxattr(target)
    finally:
        shutil.rmtree(directory)
    assert "ok" not in outcome.values(), outcome
    assert (after.st_mtime_ns, after.st_atime_ns) == (before.st_mtime_ns, before.st_atime_ns)
    assert xattrs == []


def test_a_program_that_passes_the_ast_policy_meets_the_same_sandbox(ex):
    """The AST policy is a filter, not a layer: names built at run time walk past it, and
    the kernel layers hold all the same."""
    _need(ex, "seccomp", "landlock-fs")
    marker = _marker()
    code = ("import operator\n"
            "get = lambda obj, name: operator.attrgetter(name[::-1])(obj)\n"
            "classes = get(get(get((), '__ssalc__'), '__sesab__')[0], '__sessalcbus__')()\n"
            "wrap = [c for c in classes if c.__name__ == '_wrap_close'][0]\n"
            "os_ = get(get(wrap, '__tini__'), '__slabolg__')\n"
            f"status = os_['metsys'[::-1]]('touch {marker}')\n"
            "def f():\n"
            "    try:\n"
            f"        os_['nepo'[::-1]]({str(marker)!r}, 0o101)\n"
            "    except OSError as exc:\n"
            "        return status, exc.errno\n")
    assert SafetyPolicy().check(code) == []
    result = ex.run(Snippet(code=code, call="f()"))
    assert result.ok and result.value_repr is not None
    status, error = eval(result.value_repr)
    assert status != 0 and error == errno.EACCES
    assert not marker.exists()
