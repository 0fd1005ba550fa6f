"""Finding benchmark data: the option, the environment variable, and errors that say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from azr.eval.benchmarks import all_benchmarks, select
from azr.eval import data as data_module
from azr.eval.data import DATA_DIR_ENV, resolve_data_dir
from azr.eval.errors import EvalError, MissingDataError

EXPECTED = {
    "cruxeval-o", "cruxeval-i", "humaneval+", "mbpp+", "gsm8k", "math500",
    "aime24", "aime25", "amc23", "minerva", "olympiadbench",
}


def test_every_benchmark_of_the_issue_is_registered() -> None:
    assert set(all_benchmarks()) == EXPECTED


def test_select_accepts_names_families_and_all_in_order() -> None:
    assert [b.name for b in select("gsm8k,cruxeval-o")] == ["gsm8k", "cruxeval-o"]
    assert [b.name for b in select("cruxeval")] == ["cruxeval-o", "cruxeval-i"]
    assert {b.name for b in select("code")} == {"humaneval+", "mbpp+"}
    assert {b.name for b in select(["all"])} == EXPECTED
    with pytest.raises(EvalError, match="unknown benchmark 'gsm9k'"):
        select("gsm9k")


def test_data_dir_comes_from_the_option_before_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "opt").mkdir()
    (tmp_path / "env").mkdir()
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "opt") == tmp_path / "opt"
    assert resolve_data_dir(None) == tmp_path / "env"
    monkeypatch.delenv(DATA_DIR_ENV)
    assert resolve_data_dir(None) is None


@pytest.mark.parametrize("name", ["cruxeval-o", "gsm8k", "minerva"])
def test_missing_data_names_the_path_and_how_to_provide_it(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    bench = select(name)[0]
    with pytest.raises(MissingDataError) as caught:
        bench.load(tmp_path)
    message = str(caught.value)
    assert str(tmp_path / bench.source.local) in message
    assert "--data-dir" in message and DATA_DIR_ENV in message


def test_missing_evalplus_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(MissingDataError, match="humanevalplus/HumanEvalPlus"):
        select("humaneval+")[0].load(tmp_path)


def test_cli_reports_missing_data_before_loading_any_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from azr.cli.main import app

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    args = ["eval", "--model", "no-such-model", "--bench", "gsm8k", "--data-dir", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, MissingDataError)


@pytest.fixture
def no_hub(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """A stub hub that records every attempt: a missing data directory must not reach it."""
    attempts: list[object] = []
    monkeypatch.setattr(data_module, "_try_hub", lambda source: attempts.append(source) or "stub hub")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return attempts


def test_a_missing_data_dir_fails_at_once_without_the_hub(
    no_hub: list[object], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-dir"
    with pytest.raises(MissingDataError, match=f"data directory {missing} \\(from --data-dir\\) does not exist"):
        resolve_data_dir(missing)
    monkeypatch.setenv(DATA_DIR_ENV, str(missing))
    with pytest.raises(MissingDataError, match=f"from {DATA_DIR_ENV}"):
        resolve_data_dir(None)
    with pytest.raises(MissingDataError, match="does not exist"):
        select("cruxeval-o")[0].load(missing)
    assert no_hub == []


def test_cli_reports_a_missing_data_dir_without_the_hub(no_hub: list[object], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from azr.cli.main import app

    args = ["eval", "--model", "no-such-model", "--bench", "gsm8k", "--data-dir", str(tmp_path / "typo")]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, MissingDataError)
    assert "does not exist" in str(result.exception)
    assert no_hub == []
