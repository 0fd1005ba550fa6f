"""Exports carry every record unchanged, and the CLI reports and exits as documented."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from azr.cli.main import app
from azr.ledger import Ledger, LedgerError
from azr.ledger.export import export_ledger, record_row


def _filled(run_dir: Path) -> list[dict]:
    with Ledger.open(run_dir) as ledger:
        ledger.append("run_start", {"config": {"lr": 1e-6}})
        for step in (1, 2):
            with ledger.step(step) as tx:
                tx.append("proposal", {"program": "def f(a):\n    return a", "inputs": ["1", "'x'"]})
                tx.append("reward", {"value": -0.5, "group": "deduction/solve"})
        return [record_row(r) for r in ledger.records()]


def test_jsonl_round_trip(tmp_path: Path) -> None:
    expected = _filled(tmp_path)
    path = export_ledger(tmp_path, "jsonl", tmp_path / "out" / "all.jsonl").path
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows == expected


def test_parquet_round_trip(tmp_path: Path) -> None:
    expected = _filled(tmp_path)
    path = export_ledger(tmp_path, "parquet").path
    assert path == tmp_path / "ledger.parquet"
    rows = pq.read_table(path).to_pylist()
    assert [{**row, "payload": json.loads(row["payload"])} for row in rows] == expected


def test_export_one_kind(tmp_path: Path) -> None:
    _filled(tmp_path)
    path = export_ledger(tmp_path, "jsonl", kind="reward").path
    assert path.name == "ledger-reward.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["step"], r["kind"]) for r in rows] == [(1, "reward"), (2, "reward")]


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    _filled(tmp_path)
    with pytest.raises(LedgerError, match="jsonl, parquet"):
        export_ledger(tmp_path, "csv")


def test_cli_verify_passes_then_fails_after_an_edit(tmp_path: Path) -> None:
    _filled(tmp_path)
    runner = CliRunner()
    good = runner.invoke(app, ["ledger", "verify", str(tmp_path), "--json"])
    assert good.exit_code == 0, good.output
    assert json.loads(good.stdout)["ok"] is True
    conn = sqlite3.connect(tmp_path / "ledger.sqlite")
    conn.execute("DROP TRIGGER records_no_update")
    conn.execute("""UPDATE records SET payload = '{"value":1.0,"group":"deduction/solve"}' WHERE id = 3""")
    conn.commit()
    conn.close()
    bad = runner.invoke(app, ["ledger", "verify", str(tmp_path)])
    assert bad.exit_code == 1
    assert "record 3" in bad.output and "FAILED" in bad.output


def test_cli_export_writes_the_file(tmp_path: Path) -> None:
    _filled(tmp_path)
    out = tmp_path / "x.parquet"
    result = CliRunner().invoke(app, ["ledger", "export", str(tmp_path), "--format", "parquet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).num_rows == 7


def _edit_record_3(run_dir: Path) -> None:
    conn = sqlite3.connect(run_dir / "ledger.sqlite")
    conn.execute("DROP TRIGGER records_no_update")
    conn.execute("""UPDATE records SET payload = '{"value":1.0,"group":"deduction/solve"}' WHERE id = 3""")
    conn.commit()
    conn.close()


def test_a_tampered_ledger_is_not_exported(tmp_path: Path) -> None:
    _filled(tmp_path)
    _edit_record_3(tmp_path)
    out = tmp_path / "x.jsonl"
    with pytest.raises(LedgerError, match=r"refusing to export .* fails verification: the append-only trigger .* \(and 1 more\).*--force"):
        export_ledger(tmp_path, "jsonl", out)
    assert not out.exists()


def test_cli_export_refuses_a_tampered_ledger_and_forced_warns(tmp_path: Path) -> None:
    _filled(tmp_path)
    _edit_record_3(tmp_path)
    out = tmp_path / "x.jsonl"
    refused = CliRunner().invoke(app, ["ledger", "export", str(tmp_path), "--out", str(out)])
    assert isinstance(refused.exception, LedgerError) and not out.exists()
    forced = CliRunner().invoke(app, ["ledger", "export", str(tmp_path), "--out", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "FAILS verification" in forced.output and "record 3" in forced.output
    assert len(out.read_text().splitlines()) == 7
