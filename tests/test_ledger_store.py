"""Step transactions, resume points, reads and the rules of who may write."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from azr.ledger import Ledger, LedgerError


class _Crash(RuntimeError):
    pass


def test_step_that_raises_leaves_nothing_of_itself(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger:
        with ledger.step(1) as tx:
            tx.append("proposal", {"n": 1})
        with pytest.raises(_Crash):
            with ledger.step(2) as tx:
                tx.append("proposal", {"n": 2})
                tx.append("reward", {"value": 1.0})
                raise _Crash("mid-step")
        assert [r.payload for r in ledger.records(kind="proposal")] == [{"n": 1}]
        assert ledger.last_complete_step() == 1
        with ledger.step(2) as tx:
            rid = tx.append("proposal", {"n": 2, "retry": True})
        assert rid == 3, "ids continue from the last committed record, not the rolled-back ones"
        assert ledger.verify().ok


def test_last_complete_step_and_resume(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger:
        assert ledger.last_complete_step() is None
        ledger.append("run_start", {})
        assert ledger.last_complete_step() is None
        for step in (0, 1, 2):
            with ledger.step(step) as tx:
                tx.append("metrics", {"step": step})
    with Ledger.open(tmp_path) as ledger:
        assert ledger.last_complete_step() == 2
        with pytest.raises(LedgerError, match="resume at 3"):
            with ledger.step(2):
                pass
        ledger.append("checkpoint", {"path": "ckpt"}, step=2)
        assert ledger.last_complete_step() == 2


def test_step_end_records_count_and_range(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger:
        ledger.append("run_start", {})
        with ledger.step(5) as tx:
            for i in range(3):
                tx.append("attempt", {"i": i})
        (end,) = ledger.records(kind="step_end")
    assert end.step == 5 and end.payload == {"records": 3, "first_id": 2} and end.id == 5


def test_records_filter_by_kind_and_step_range(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger:
        for step in range(1, 6):
            with ledger.step(step) as tx:
                tx.append("proposal", {"s": step})
                tx.append("reward", {"s": step})
        got = [(r.step, r.kind) for r in ledger.records(kind="reward", since_step=2, until_step=4)]
        assert got == [(2, "reward"), (3, "reward"), (4, "reward")]
        assert [r.id for r in ledger.records(after_id=13)] == [14, 15]
        assert ledger.counts() == {"proposal": 5, "reward": 5, "step_end": 5}


def test_records_pages_through_many_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("azr.ledger.store.READ_BATCH", 7)
    with Ledger.open(tmp_path) as ledger:
        with ledger.step(1) as tx:
            for i in range(30):
                tx.append("attempt", {"i": i})
        assert [r.payload["i"] for r in ledger.records(kind="attempt")] == list(range(30))


def test_payloads_are_kept_exactly_and_non_finite_floats_survive(tmp_path: Path) -> None:
    payload = {"text": "déf f(a):\n\treturn a  # ünïcode", "nested": {"b": [1, 2.5, None]}, "loss": math.nan}
    with Ledger.open(tmp_path) as ledger:
        ledger.append("proposal", payload)
        (record,) = ledger.records()
    assert record.payload == {**payload, "loss": "NaN"}


def test_bad_payloads_and_kinds_are_refused_with_a_reason(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger:
        with pytest.raises(LedgerError, match="dataclasses.asdict"):
            ledger.append("proposal", {"obj": object()})
        with pytest.raises(LedgerError, match="reserved"):
            ledger.append("step_end", {})
        with pytest.raises(LedgerError, match="must be a dict"):
            ledger.append("proposal", [1, 2])  # type: ignore[arg-type]
        with pytest.raises(LedgerError, match="still open"):
            with ledger.step(1):
                ledger.append("ack", {})
        assert ledger.counts() == {}


def test_transaction_handle_is_dead_after_its_step(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger:
        with ledger.step(1) as tx:
            tx.append("a", {})
        with pytest.raises(LedgerError, match="closed"):
            tx.append("a", {})


def test_one_writer_per_run_dir_and_readers_cannot_write(tmp_path: Path) -> None:
    with Ledger.open(tmp_path):
        with pytest.raises(LedgerError, match="another process"):
            Ledger.open(tmp_path)
        with Ledger.open(tmp_path, readonly=True) as reader:
            with pytest.raises(LedgerError, match="read-only"):
                reader.append("ack", {})
    Ledger.open(tmp_path).close()


def test_readonly_open_of_a_missing_ledger_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="no ledger"):
        Ledger.open(tmp_path / "nowhere", readonly=True)


def test_another_process_reads_committed_steps_while_the_writer_is_open(tmp_path: Path) -> None:
    reader = (
        "import json, sys\n"
        "from azr.ledger import Ledger\n"
        "with Ledger.open(sys.argv[1], readonly=True) as l:\n"
        "    print(json.dumps([l.last_complete_step(), [r.payload for r in l.records(kind='m')]]))\n"
    )
    with Ledger.open(tmp_path) as ledger:
        with ledger.step(1) as tx:
            tx.append("m", {"v": 1})
        with ledger.step(2) as tx:
            tx.append("m", {"v": 2})
            out = subprocess.run(
                [sys.executable, "-c", reader, str(tmp_path)], capture_output=True, text=True, timeout=60, check=True
            )
    assert json.loads(out.stdout) == [1, [{"v": 1}]], "a reader sees committed steps only"


def test_a_process_killed_mid_step_resumes_from_the_last_complete_step(tmp_path: Path) -> None:
    writer = (
        "import os, sys\n"
        "from azr.ledger import Ledger\n"
        "l = Ledger.open(sys.argv[1])\n"
        "with l.step(1) as tx:\n"
        "    tx.append('m', {'v': 1})\n"
        "with l.step(2) as tx:\n"
        "    tx.append('m', {'v': 2})\n"
        "    os._exit(9)\n"
    )
    done = subprocess.run([sys.executable, "-c", writer, str(tmp_path)], timeout=60)
    assert done.returncode == 9
    with Ledger.open(tmp_path) as ledger:
        assert ledger.last_complete_step() == 1
        assert [r.payload for r in ledger.records(kind="m")] == [{"v": 1}]
        with ledger.step(2) as tx:
            tx.append("m", {"v": "2 again"})
        assert ledger.verify().ok


def test_a_file_that_is_not_a_ledger_is_named_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "ledger.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(LedgerError, match="not a readable azr ledger"):
        Ledger.open(tmp_path, readonly=True)
    with pytest.raises(LedgerError, match="not a readable azr ledger"):
        Ledger.open(tmp_path)
    Path(tmp_path / "ledger.sqlite").unlink()
    Ledger.open(tmp_path).close()
