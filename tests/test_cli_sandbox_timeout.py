"""``azr sandbox run --timeout``: a limit the executor cannot honour is one clear error, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from azr.cli.main import app
from azr.errors import AzrError

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--timeout", "nan"], "--timeout nan is not a usable time limit"),
        (["--timeout", "inf"], "--timeout inf is not a usable time limit"),
        (["--timeout", "1e308"], "--timeout 1e+308 is not a usable time limit"),
        (["--timeout", "0"], "--timeout 0 would stop the program before it starts"),
        (["--set", "default_timeout_s=.inf"], "default_timeout_s inf is not a usable time limit"),
    ],
    ids=["nan", "inf", "1e308", "zero", "config-inf"],
)
def test_an_unusable_timeout_is_refused_before_the_program_runs(tmp_path: Path, args: list[str], expected: str) -> None:
    program = tmp_path / "prog.py"
    program.write_text("print('ran')\n")
    result = CliRunner().invoke(app, ["sandbox", "run", str(program), "--json", *args])
    assert isinstance(result.exception, AzrError), result.exception
    assert expected in str(result.exception)
    assert "ran" not in result.stdout


def test_a_day_is_still_accepted(tmp_path: Path) -> None:
    program = tmp_path / "prog.py"
    program.write_text("print('ran')\n")
    result = CliRunner().invoke(app, ["sandbox", "run", str(program), "--json", "--timeout", "86400"])
    assert result.exit_code == 0, result.output
    assert '"stdout": "ran\\n"' in result.stdout
