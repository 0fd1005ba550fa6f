"""What a --model names is decided before any download: a missing path or a malformed name says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from azr.engine import models
from azr.engine.errors import ModelLoadError


@pytest.fixture
def hub_attempts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A stub hub loader that records each id it was asked for and then fails as an offline hub would."""
    attempts: list[str] = []

    def stub_load_hub(model_id: str) -> models.LoadedModel:
        attempts.append(model_id)
        raise ModelLoadError(f"stub hub: {model_id} not reachable")

    monkeypatch.setattr(models, "load_hub", stub_load_hub)
    return attempts


@pytest.mark.parametrize("spec", ["/no/such/model", "./missing-model", "~/no-such-azr-model", "a/b/c", "x.gguf"])
def test_a_missing_path_says_no_such_file_or_directory(spec: str, hub_attempts: list[str], tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="^no such file or directory: "):
        models.load_model(spec)
    assert hub_attempts == []


@pytest.mark.parametrize("spec", ["my model", "org/na me", "-bad", "org/name!", "a" * 97])
def test_a_name_that_cannot_be_a_hub_id_says_what_was_expected(spec: str, hub_attempts: list[str]) -> None:
    with pytest.raises(ModelLoadError, match="not a known short name .*smollm2-135m.*an existing path, or a Hugging Face id"):
        models.load_model(spec)
    assert hub_attempts == []


def test_an_existing_file_that_is_no_model_says_so(hub_attempts: list[str], tmp_path: Path) -> None:
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="is a file but not a .gguf model"):
        models.load_model(str(weights))
    assert hub_attempts == []


@pytest.mark.parametrize("spec", ["gpt2", "HuggingFaceTB/SmolLM2-135M-Instruct", "org/model.v1_2"])
def test_a_plausible_hub_id_goes_to_the_hub(spec: str, hub_attempts: list[str], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # nothing local shadows the id
    with pytest.raises(ModelLoadError, match="stub hub"):
        models.load_model(spec)
    assert hub_attempts == [spec]
