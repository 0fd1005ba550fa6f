"""``azr sandbox run`` and ``azr sandbox doctor``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from azr.cli.main import app

pytestmark = pytest.mark.timeout(60)


def test_run_prints_a_structured_json_result(tmp_path):
    program = tmp_path / "prog.py"
    program.write_text("def f(xs):\n    print('sorting')\n    return sorted(xs)\n")
    result = CliRunner().invoke(app, ["sandbox", "run", str(program), "--call", "f([3, 1, 2])", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["ok"] and payload["value_repr"] == "[1, 2, 3]" and payload["stdout"] == "sorting\n"


def test_run_reports_a_timeout_and_exits_non_zero(tmp_path):
    program = tmp_path / "loop.py"
    program.write_text("while True:\n    pass\n")
    result = CliRunner().invoke(app, ["sandbox", "run", str(program), "--timeout", "0.3", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["timed_out"] is True


def test_doctor_lists_every_layer():
    result = CliRunner().invoke(app, ["sandbox", "doctor"])
    assert result.exit_code == 0, result.output
    for name in ("rlimits", "uid", "landlock-fs", "seccomp"):
        assert name in result.output
