"""``azr``'s entry point prints an AzrError as one line, exactly as raised, and exits 2."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from azr.cli import main


def test_an_error_is_one_unwrapped_line_with_brackets_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "[run]" / ("a-long-directory-name-" * 4) / "settings.yaml"
    monkeypatch.setattr(sys, "argv", ["azr", "sandbox", "doctor", "--config", str(missing)])
    with pytest.raises(SystemExit) as stopped:
        main.run()
    assert stopped.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"error: cannot read config file {missing}: No such file or directory"]
