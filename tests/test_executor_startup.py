"""How workers start: nothing from the caller's directory is imported, and a crashed
executor's scratch directories are cleaned up by the next one."""

from __future__ import annotations

import pytest

from azr.executor import Executor, ExecutorConfig, Snippet

pytestmark = pytest.mark.timeout(120)


def test_a_module_planted_in_the_working_directory_is_not_imported_by_workers(tmp_path, monkeypatch):
    marker = tmp_path / "imported-as-root"
    for name in ("textwrap", "azr_planted"):  # a preloaded stdlib name and a new one
        (tmp_path / f"{name}.py").write_text(f"open({str(marker)!r}, 'a').write({name!r})\n")
    monkeypatch.chdir(tmp_path)
    config = ExecutorConfig(workers=1, seed_slots=1)
    with Executor(config) as executor:
        result = executor.run(Snippet(code="import textwrap", call="textwrap.dedent(' x')"))
    assert result.value_repr == "'x'", result
    assert not marker.exists(), marker.read_text()
    with pytest.raises(Exception, match="azr_planted"):
        Executor(config.model_copy(update={"preload_modules": ["azr_planted"]}))
    assert not marker.exists(), marker.read_text()
