"""``azr audit`` on input it cannot sensibly audit: one clear error, never a traceback or an hours-long run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from azr.cli.main import app
from azr.oversight.errors import OversightConfigError

pytestmark = pytest.mark.timeout(60)


def _audit(path: Path, *extra: str):
    return CliRunner().invoke(app, ["audit", str(path), "--json", *extra])


def test_a_100_mb_line_is_refused_with_its_size_and_the_option(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    path.write_text(json.dumps({"completion": "I will check the tests. " * 4_200_000}) + "\n")
    result = _audit(path)
    assert isinstance(result.exception, OversightConfigError), result.exception
    assert "huge.jsonl:1 is 100.8 MB, over the 1 MB" in str(result.exception)
    assert "--max-item-mb 101" in str(result.exception)


def test_the_limit_can_be_raised(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("We plan to sabotage the evaluation. " + "The loop adds one. " * 100_000)
    assert "over the 1.5 MB" in str(_audit(path, "--no-semantic", "--max-item-mb", "1.5").exception)
    result = _audit(path, "--no-semantic", "--max-item-mb", "3")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout.splitlines()[0])["source"] == "big.txt"


@pytest.mark.parametrize(
    "text", ["x = " + "1+" * 300_000 + "1\n", "x = " + "-" * 300_000 + "1\n"], ids=["deep-sum", "deep-unary"]
)
def test_a_program_too_deep_to_parse_is_audited_as_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "deep.py"
    path.write_text(text)
    result = _audit(path, "--no-semantic")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0


@pytest.mark.parametrize(
    ("line", "expected"),
    [("[" * 300_000 + "]" * 300_000, "nested too deeply to read as JSON"), ("[1, 2]", "JSON but not an object")],
    ids=["deep", "array"],
)
def test_a_jsonl_line_that_is_no_object_is_named(tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps({"completion": "fine"}) + "\n" + line + "\n")
    result = _audit(path, "--no-semantic")
    assert isinstance(result.exception, OversightConfigError), result.exception
    assert f"items.jsonl:2 is {expected}" in str(result.exception)
