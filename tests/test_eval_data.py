"""Finding benchmark data: the option, the environment variable, and errors that say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from azr.eval.benchmarks import all_benchmarks, select
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
