"""Layer detection, refusal of required-but-missing layers, and the seccomp program itself."""

from __future__ import annotations

import logging
import platform
import re
from pathlib import Path

import pytest

from azr.executor import Executor, ExecutorConfig, Snippet
from azr.executor import landlock, seccomp
from azr.executor.config import LAYER_NAMES
from azr.executor.errors import SandboxUnavailable
from azr.executor.layers import probe

pytestmark = pytest.mark.timeout(60)

_UNISTD = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")


def test_probe_reports_every_layer_with_what_it_blocks():
    statuses = probe(ExecutorConfig())
    assert [s.name for s in statuses] == list(LAYER_NAMES)
    assert all(s.blocks and s.detail for s in statuses)


def test_a_required_layer_that_is_missing_refuses_to_start(monkeypatch):
    monkeypatch.setattr(landlock, "abi_version", lambda: 0)
    with pytest.raises(SandboxUnavailable, match="landlock-fs"):
        Executor(ExecutorConfig(workers=1, seed_slots=1, require_layers=["landlock-fs"]))


def test_a_missing_layer_warns_loudly_and_the_rest_still_apply(monkeypatch, caplog):
    monkeypatch.setattr(landlock, "abi_version", lambda: 0)
    with caplog.at_level(logging.WARNING), Executor(ExecutorConfig(workers=1, seed_slots=1)) as executor:
        result = executor.run(Snippet(code="import os\nos.fork()"))
        active = {s.name for s in executor.layers() if s.active}
    assert "landlock-fs" not in active
    assert any("landlock-fs is NOT active" in record.getMessage() for record in caplog.records)
    if "seccomp" in active:
        assert result.error_type == "PermissionError"


def test_unknown_required_layer_is_a_config_error():
    with pytest.raises(ValueError, match="unknown layer"):
        ExecutorConfig(require_layers=["firewall"])


@pytest.mark.skipif(not _UNISTD.exists() or platform.machine() != "x86_64", reason="needs x86_64 kernel headers")
def test_seccomp_syscall_numbers_match_the_kernel_headers():
    numbers = {name: int(n) for name, n in re.findall(r"#define __NR_(\w+)\s+(\d+)", _UNISTD.read_text())}
    table = seccomp.ARCHES["x86_64"]
    ours = table["deny"] | table["no_xattr"] | table["child_deny"] | {
        name: number for name, (number, _) in table["self_only"].items()} | {
        name: table[name] for name in ("clone", "clone3")}
    for name, number in ours.items():
        if name in numbers:
            assert numbers[name] == number, name
        else:  # a call newer than these headers: it must at least not collide with a known one
            assert number > max(numbers.values()), name


def test_seccomp_program_jumps_stay_inside_the_program():
    for allow_fork in (True, False):
        program = seccomp.assemble(allow_fork=allow_fork, machine="x86_64")
        for index, (code, jt, jf, _) in enumerate(program):
            if code & 0x07 == 0x05:  # BPF_JMP
                assert index + 1 + max(jt, jf) < len(program)
        assert program[-1][0] == 0x06  # ends in a return


def _compared(program):
    return {k for code, _, _, k in program if code == 0x15}  # BPF_JEQ constants


def test_child_filter_stays_short_and_closes_fork_and_pidfd_open():
    table = seccomp.ARCHES["x86_64"]
    child = _compared(seccomp.assemble(allow_fork=False, machine="x86_64"))
    server = _compared(seccomp.assemble(allow_fork=True, machine="x86_64"))
    pid_calls = {number for number, _ in table["self_only"].values()}
    assert table["clone"] in child and table["clone"] not in server
    assert table["child_deny"]["pidfd_open"] in child and table["child_deny"]["pidfd_open"] not in server
    assert pid_calls <= server and len(seccomp.assemble(allow_fork=False, machine="x86_64")) < 15
    assert {table["deny"]["socket"], table["deny"]["socketpair"]} <= server

