"""The isolation layers, applied in two stages so each snippet pays only for what differs.

The fork-server confines itself once, after importing what children may use: a
size-capped tmpfs on its scratch directory in a mount namespace of its own (where the kernel
allows), rlimits (all but CPU), the unprivileged uid, no_new_privs, Landlock (read
allow-list, writes only to its scratch directory, no exec, no TCP) and a seccomp filter that
still allows fork. Every child inherits all of that and then, before running its snippet:
starts a new session, keeps only its own file descriptors, gets a fresh CPU limit, dies
with its parent, enters a nested Landlock domain that cannot signal out, and loads the
seccomp filter that closes fork and every call naming another process (see
:mod:`azr.executor.seccomp`).
A failing step raises; callers fail closed.
"""

from __future__ import annotations

import os
import resource
import signal
from dataclasses import dataclass

from azr.executor import landlock
from azr.executor._libc import (
    CLONE_NEWNS, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_REC, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS,
    PR_SET_PDEATHSIG, mount, prctl, unshare,
)
from azr.executor.seccomp import Filter
from azr.executor.settings import WorkerSettings

RESULT_FD = 3
# Files and directories a scratch tmpfs may hold: each inode costs kernel memory its size
# option does not count.
_SCRATCH_INODES = 16384
_FIRST_UNUSED_FD = 4


@dataclass(frozen=True)
class Plan:
    """What a child applies on top of what it inherits from its confined fork-server."""

    worker_pid: int
    cpu_time_s: int
    scope_ruleset_fd: int | None
    seccomp: Filter | None


def confine_worker(settings: WorkerSettings) -> tuple[Plan, bool]:
    """Apply the one-time layers to the calling process (the fork-server) and plan the rest.
    Also says whether the scratch directory is a size-capped tmpfs."""
    scratch_is_tmpfs = settings.uid is not None and _mount_scratch_tmpfs(settings)
    abi = settings.landlock_abi
    base_ruleset = landlock.build_ruleset(settings.read_paths, settings.scratch, abi) if abi else None
    plan = Plan(
        worker_pid=os.getpid(),
        cpu_time_s=settings.cpu_time_s,
        scope_ruleset_fd=landlock.build_scope_ruleset(abi) if abi else None,
        seccomp=Filter(allow_fork=False) if settings.seccomp else None,
    )
    os.chdir(settings.scratch)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    for name, limit in settings.rlimits:
        resource.setrlimit(getattr(resource, name), (limit, limit))
    if settings.uid is not None:
        os.setgroups([])
        os.setresgid(settings.uid, settings.uid, settings.uid)
        os.setresuid(settings.uid, settings.uid, settings.uid)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    if base_ruleset is not None:
        landlock.restrict_self(base_ruleset)
        os.close(base_ruleset)
    if settings.seccomp:
        Filter(allow_fork=True).install()
    return plan, scratch_is_tmpfs


def _mount_scratch_tmpfs(settings: WorkerSettings) -> bool:
    """Mount a tmpfs of ``max_scratch_bytes`` on the scratch directory, in a mount namespace
    of this worker's own, so the cap holds while a program writes and the mount vanishes
    with the worker (a killed executor leaves no mount on the host). Before the Landlock
    ruleset is built, whose write rule must name the tmpfs and not the directory under it.
    False where the kernel refuses (no CAP_SYS_ADMIN): then only the check after each run
    caps the total.
    """
    options = (f"size={settings.max_scratch_bytes},nr_inodes={_SCRATCH_INODES},mode=0700,"
               f"uid={settings.uid},gid={settings.uid}")
    try:
        unshare(CLONE_NEWNS)
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        mount("azr-scratch", settings.scratch, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options)
    except OSError:
        return False
    return True


def confine_child(plan: Plan, result_w: int, output_w: int) -> None:
    """Run in the child right after fork. Leaves stdin on /dev/null (the fork-server's fd 0),
    stdout and stderr on the output pipe and the result pipe on :data:`RESULT_FD`.
    """
    os.setsid()
    os.dup2(output_w, 1)
    os.dup2(output_w, 2)
    os.dup2(result_w, RESULT_FD)
    if plan.scope_ruleset_fd is not None:
        landlock.restrict_self(plan.scope_ruleset_fd)
    os.closerange(_FIRST_UNUSED_FD, 1 << 20)
    resource.setrlimit(resource.RLIMIT_CPU, (plan.cpu_time_s, plan.cpu_time_s + 1))
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != plan.worker_pid:
        os._exit(71)
    if plan.seccomp is not None:
        plan.seccomp.install()
