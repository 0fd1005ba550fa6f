"""Each live executor gets sandbox uids no other live executor on the host holds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from azr.executor import Executor, ExecutorConfig, Snippet
from azr.executor.errors import ExecutorError
from azr.executor.uids import lease_uids

pytestmark = pytest.mark.timeout(60)


def _uids(lease) -> set[int]:
    return set(range(lease.first, lease.first + lease.size))


def test_leases_never_overlap_even_with_different_block_sizes(tmp_path: Path):
    first = lease_uids(70000, 4, tmp_path)
    second = lease_uids(70000, 2, tmp_path)
    third = lease_uids(70000, 3, tmp_path)
    assert first.first == 70000
    assert not (_uids(first) & _uids(second)) and not (_uids(first) & _uids(third)) and not (_uids(second) & _uids(third))
    first.release()
    again = lease_uids(70000, 4, tmp_path)
    assert again.first == 70000  # a released block is free again
    for lease in (second, third, again):
        lease.release()


def test_a_full_range_is_an_error_that_names_the_setting(tmp_path: Path):
    held = lease_uids(70000, 2, tmp_path, max_blocks=2)
    also = lease_uids(70000, 2, tmp_path, max_blocks=2)
    with pytest.raises(ExecutorError, match="executor.sandbox_uid"):
        lease_uids(70000, 2, tmp_path, max_blocks=2)
    held.release()
    also.release()


def _worker_uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for {pid}")


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid layer needs root")
def test_two_live_executors_run_their_workers_under_different_uids():
    config = ExecutorConfig(workers=1, seed_slots=2)
    with Executor(config) as one, Executor(config) as two:
        uids_one = {_worker_uid(pid) for pid in one.worker_pids()}
        uids_two = {_worker_uid(pid) for pid in two.worker_pids()}
        assert len(uids_one) == len(uids_two) == 2 and not (uids_one & uids_two)
        assert one.run(Snippet(code="import os", call="os.getuid()")).value_repr in {str(u) for u in uids_one}
        assert two.run(Snippet(code="import os", call="os.getuid()")).value_repr in {str(u) for u in uids_two}
