"""Which isolation layers this host supports, what each blocks, and what the workers apply.

Probing has no side effects: it asks the kernel for the Landlock ABI, whether seccomp
filters are accepted, and whether we may change uid. A missing layer is reported loudly
and the others still apply; ``require_layers`` turns a missing layer into a refusal.
"""

from __future__ import annotations

import logging
import os

from azr.executor import landlock, seccomp
from azr.executor.config import ExecutorConfig
from azr.executor.errors import SandboxUnavailable
from azr.executor.types import LayerStatus

log = logging.getLogger(__name__)


def probe(config: ExecutorConfig) -> list[LayerStatus]:
    """The status of every layer on this host, in the order a child applies them."""
    abi = landlock.abi_version()
    cover = landlock.Coverage.for_abi(abi)
    seccomp_ok, seccomp_detail = seccomp.supported()
    root = os.geteuid() == 0
    ll = f"Landlock ABI {abi}" if abi else "Landlock is not enabled in this kernel (see /sys/kernel/security/lsm)"
    return [
        LayerStatus("session", True, "own session and process group; the worker is a child subreaper",
                    "stray processes surviving a timeout; zombies"),
        LayerStatus("rlimits", True,
                    f"cpu {config.cpu_time_s}s, address space {config.memory_mb} MiB, files {config.max_file_bytes} B, "
                    f"{config.max_open_files} fds, {config.max_threads} threads, no core dumps",
                    "runaway CPU, huge allocations, disk filling, fd exhaustion, core dumps"),
        LayerStatus("uid", root,
                    f"children run as uids leased per executor from {config.sandbox_uid}" if root
                    else f"not root (euid {os.geteuid()}): children keep the caller's uid",
                    "access to root-owned files and signals to other users' processes"),
        LayerStatus("landlock-fs", cover.fs, ll,
                    "reading outside the interpreter's libraries, writing outside the snippet's temp dir, exec"),
        LayerStatus("landlock-net", cover.net, ll if cover.net else f"needs Landlock ABI 4, have {abi}",
                    "TCP bind and connect"),
        LayerStatus("landlock-scope", cover.scope, ll if cover.scope else f"needs Landlock ABI 6, have {abi}",
                    "signals and abstract UNIX sockets reaching processes outside the sandbox"),
        LayerStatus("seccomp", seccomp_ok, seccomp_detail,
                    "every socket (host UNIX sockets and abstract names included); new processes (fork, vfork, "
                    "clone, exec); changing or probing any process but itself (prlimit, priorities, affinity, "
                    "scheduling, I/O priority, getsid/getpgid on other pids); ptrace and cross-process memory; "
                    "System V and POSIX IPC objects; extended attributes and timestamps; inotify and fanotify; "
                    "mount, namespaces, chroot; bpf, io_uring, userfaultfd, perf; keyrings; kernel modules, "
                    "kexec, reboot; clock and host settings"),
    ]


def check(config: ExecutorConfig, statuses: list[LayerStatus]) -> None:
    """Refuse required layers that are missing; warn loudly about any other missing layer."""
    missing = [s for s in statuses if not s.active]
    required = [s for s in missing if s.name in config.require_layers]
    if required:
        lines = "; ".join(f"{s.name}: {s.detail}" for s in required)
        raise SandboxUnavailable(
            f"required sandbox layer(s) missing on this host: {lines}. Run `azr sandbox doctor` to see every "
            "layer, or remove them from executor.require_layers to run with less isolation."
        )
    for status in missing:
        log.warning("sandbox layer %s is NOT active (%s): %s are not blocked by it",
                    status.name, status.detail, status.blocks)
