"""The hash chain and the head anchor catch every way of changing a ledger after the fact."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from azr.ledger import Ledger, LedgerError
from azr.ledger.anchor import HeadAnchor, read_anchor, write_anchor


def _filled(run_dir: Path, steps: int = 3) -> None:
    with Ledger.open(run_dir) as ledger:
        ledger.append("run_start", {"seed": 1})
        for step in range(1, steps + 1):
            with ledger.step(step) as tx:
                tx.append("proposal", {"program": f"def f(a): return a + {step}", "valid": True})
                tx.append("reward", {"value": 0.5 * step})


def _tamper(run_dir: Path, *statements: str) -> None:
    """Edit the table the way an attacker would: drop the guards first."""
    conn = sqlite3.connect(run_dir / "ledger.sqlite")
    conn.execute("DROP TRIGGER records_no_update")
    conn.execute("DROP TRIGGER records_no_delete")
    for sql in statements:
        conn.execute(sql)
    conn.commit()
    conn.close()


def _verify(run_dir: Path):
    with Ledger.open(run_dir, readonly=True) as ledger:
        return ledger.verify()


def test_intact_ledger_verifies(tmp_path: Path) -> None:
    _filled(tmp_path)
    report = _verify(tmp_path)
    assert report.ok, report.problems
    assert report.checked == 10 and report.last_id == 10 and report.last_complete_step == 3


def test_guards_refuse_update_and_delete(tmp_path: Path) -> None:
    _filled(tmp_path)
    conn = sqlite3.connect(tmp_path / "ledger.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE records SET payload = '{}' WHERE id = 2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM records WHERE id = 2")


def test_edit_is_caught_at_the_edited_record(tmp_path: Path) -> None:
    _filled(tmp_path)
    _tamper(tmp_path, """UPDATE records SET payload = '{"program":"x","valid":false}' WHERE id = 5""")
    report = _verify(tmp_path)
    assert not report.ok
    assert any(p.startswith("record 5 ") and "edited" in p for p in report.problems)
    assert any("trigger" in p for p in report.problems)


def test_deletion_is_caught_as_a_gap(tmp_path: Path) -> None:
    _filled(tmp_path)
    _tamper(tmp_path, "DELETE FROM records WHERE id = 3")
    report = _verify(tmp_path)
    assert not report.ok
    assert any("records 3..3 are missing" in p for p in report.problems)


def test_deletion_inside_a_step_breaks_its_closing_record(tmp_path: Path) -> None:
    _filled(tmp_path)
    _tamper(tmp_path, "DELETE FROM records WHERE id = 6")
    problems = _verify(tmp_path).problems
    assert any("end of step 2" in p and "only 1 precede" in p for p in problems)


def test_truncated_tail_is_caught_by_the_head_anchor(tmp_path: Path) -> None:
    _filled(tmp_path)
    _tamper(tmp_path, "DELETE FROM records WHERE id > 7")
    report = _verify(tmp_path)
    assert not report.ok
    assert any("cut off the end" in p and "record 7" in p for p in report.problems)


def test_reordered_rows_are_caught(tmp_path: Path) -> None:
    _filled(tmp_path)
    _tamper(
        tmp_path,
        "UPDATE records SET id = -1 WHERE id = 2",
        "UPDATE records SET id = 2 WHERE id = 3",
        "UPDATE records SET id = 3 WHERE id = -1",
    )
    problems = _verify(tmp_path).problems
    assert any(p.startswith("record 2 ") for p in problems)
    assert any(p.startswith("record 3 ") for p in problems)


def test_missing_anchor_is_a_problem(tmp_path: Path) -> None:
    _filled(tmp_path)
    (tmp_path / "ledger.head.json").unlink()
    assert any("anchor file is missing" in p for p in _verify(tmp_path).problems)
    with pytest.raises(LedgerError, match="anchor"):
        Ledger.open(tmp_path)


def test_writer_refuses_to_extend_a_truncated_ledger(tmp_path: Path) -> None:
    _filled(tmp_path)
    _tamper(tmp_path, "DELETE FROM records WHERE id > 7")
    with pytest.raises(LedgerError, match="cut off the end"):
        Ledger.open(tmp_path)


def test_anchor_left_behind_by_a_crash_is_a_note_and_is_advanced(tmp_path: Path) -> None:
    _filled(tmp_path)
    anchor = read_anchor(tmp_path)
    assert anchor is not None and anchor.last_id == 10
    with Ledger.open(tmp_path, readonly=True) as reader:
        seventh = next(r for r in reader.records() if r.id == 7)
    write_anchor(tmp_path, HeadAnchor(last_id=7, last_hash=seventh.hash, records=7))
    report = _verify(tmp_path)
    assert report.ok and any("3 record(s) after the head anchor" in n for n in report.notes)
    Ledger.open(tmp_path).close()
    assert read_anchor(tmp_path) == HeadAnchor(last_id=10, last_hash=anchor.last_hash, records=10)
