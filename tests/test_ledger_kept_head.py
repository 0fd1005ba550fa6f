"""A cut-off end hidden by re-created triggers and a rewritten ledger.head.json is caught by a head kept elsewhere."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from azr.cli.main import app
from azr.ledger import Ledger, LedgerError
from azr.ledger.anchor import HeadAnchor, write_anchor
from azr.ledger.schema import SCHEMA

runner = CliRunner()


def _filled(run_dir: Path, steps: int = 3) -> None:
    with Ledger.open(run_dir) as ledger:
        ledger.append("run_start", {"seed": 1})
        for step in range(1, steps + 1):
            with ledger.step(step) as tx:
                tx.append("proposal", {"program": f"def f(a): return a + {step}"})
                tx.append("reward", {"value": 0.5 * step})


def _cut_and_cover(run_dir: Path, keep: int) -> None:
    """The attack: drop the guards, delete the last records, re-create the guards, rewrite the anchor to match."""
    conn = sqlite3.connect(run_dir / "ledger.sqlite")
    conn.execute("DROP TRIGGER records_no_delete")
    conn.execute("DELETE FROM records WHERE id > ?", (keep,))
    conn.executescript(SCHEMA)
    last_hash = conn.execute("SELECT hash FROM records WHERE id = ?", (keep,)).fetchone()[0]
    conn.close()
    write_anchor(run_dir, HeadAnchor(last_id=keep, last_hash=last_hash, records=keep))


def _verify(run_dir: Path, *extra: str):
    return runner.invoke(app, ["ledger", "verify", str(run_dir), "--json", *extra])


def test_the_covered_cut_passes_alone_and_fails_against_the_printed_head(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _filled(run)
    first = _verify(run)
    assert first.exit_code == 0, first.output
    head = json.loads(first.stdout)["head"]
    assert head.startswith("10:")
    _cut_and_cover(run, keep=6)
    assert _verify(run).exit_code == 0  # the limit docs/ledger.md states: nothing in the run directory shows it
    caught = _verify(run, "--expect-head", head)
    assert caught.exit_code == 1
    assert any("reached record 10: 4 record(s) were cut off" in p for p in json.loads(caught.stdout)["problems"])


def test_the_human_report_prints_the_head_to_keep(tmp_path: Path) -> None:
    _filled(tmp_path)
    result = runner.invoke(app, ["ledger", "verify", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "head: 10:" in result.output and "--expect-head" in result.output


def test_an_anchor_file_outside_the_run_keeps_every_head_and_catches_the_cut(tmp_path: Path) -> None:
    run, anchors = tmp_path / "run", tmp_path / "elsewhere" / "anchors.jsonl"
    anchors.parent.mkdir()
    _filled(run, steps=2)
    assert _verify(run, "--anchor-file", str(anchors)).exit_code == 0
    with Ledger.open(run) as ledger, ledger.step(3) as tx:
        tx.append("reward", {"value": 1.0})
    assert _verify(run, "--anchor-file", str(anchors)).exit_code == 0
    kept = [json.loads(line)["head"] for line in anchors.read_text().splitlines()]
    assert [h.split(":")[0] for h in kept] == ["7", "9"]
    _cut_and_cover(run, keep=8)
    caught = _verify(run, "--anchor-file", str(anchors))
    assert caught.exit_code == 1
    assert any("reached record 9: 1 record(s) were cut off" in p for p in json.loads(caught.stdout)["problems"])
    assert len(anchors.read_text().splitlines()) == 2  # a failed check keeps nothing


def test_a_rewritten_tail_of_the_same_length_breaks_the_kept_hash(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _filled(run, steps=1)
    head = json.loads(_verify(run).stdout)["head"]
    conn = sqlite3.connect(run / "ledger.sqlite")
    conn.execute("DROP TRIGGER records_no_delete")
    conn.execute("DELETE FROM records")
    conn.executescript(SCHEMA)
    conn.close()
    (run / "ledger.head.json").unlink()
    with Ledger.open(run) as ledger:  # a whole new, self-consistent ledger of the same length
        ledger.append("run_start", {"seed": 2})
        with ledger.step(1) as tx:
            tx.append("proposal", {"program": "def f(a): return a"})
            tx.append("reward", {"value": 1.0})
    assert _verify(run).exit_code == 0
    problems = json.loads(_verify(run, "--expect-head", head).stdout)["problems"]
    assert any("record 4 no longer has the hash kept outside" in p for p in problems)


def test_a_replaced_ledger_is_named_by_the_anchor_file(tmp_path: Path) -> None:
    run, anchors = tmp_path / "run", tmp_path / "anchors.jsonl"
    _filled(run, steps=1)
    assert _verify(run, "--anchor-file", str(anchors)).exit_code == 0
    for name in ("ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm", "ledger.head.json"):
        (run / name).unlink(missing_ok=True)
    _filled(run, steps=1)
    problems = json.loads(_verify(run, "--anchor-file", str(anchors)).stdout)["problems"]
    assert any("kept heads of a different ledger" in p for p in problems)


@pytest.mark.parametrize("text", ["10", "abc:def", "0:" + "a" * 64, "3:" + "g" * 64])
def test_a_malformed_head_is_refused(tmp_path: Path, text: str) -> None:
    _filled(tmp_path, steps=1)
    result = _verify(tmp_path, "--expect-head", text)
    assert isinstance(result.exception, LedgerError) and "ID:HASH" in str(result.exception)


def test_an_anchor_file_inside_the_run_directory_is_refused(tmp_path: Path) -> None:
    _filled(tmp_path, steps=1)
    result = _verify(tmp_path, "--anchor-file", str(tmp_path / "anchors.jsonl"))
    assert isinstance(result.exception, LedgerError) and "keep it elsewhere" in str(result.exception)
