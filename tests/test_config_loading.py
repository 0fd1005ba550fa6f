"""A --config file that is not YAML text fails with one line naming the file, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from azr.cli.main import app
from azr.config import StrictModel, build_config
from azr.errors import ConfigError


class _Settings(StrictModel):
    value: int = 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (bytes(range(256)) * 4, r"is not a YAML text file \(byte 0x80 at offset 128 is not UTF-8\)"),
        (b"value: 1\n\x00\x01 more: [\n", r"character #x0000 at position 9 is not allowed"),
        (b"value: [1,\n  other: {\n", r"found '<stream end>' \(line 3, column 1\)"),
    ],
    ids=["binary", "nul-byte", "unclosed"],
)
def test_a_file_that_is_not_yaml_is_one_line_naming_it(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "settings.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=expected) as caught:
        build_config(_Settings, path=path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_the_cli_turns_a_binary_config_into_an_azr_error(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    result = CliRunner().invoke(app, ["sandbox", "doctor", "--config", str(path)])
    assert isinstance(result.exception, ConfigError), result.exception
    assert "is not a YAML text file" in str(result.exception)
