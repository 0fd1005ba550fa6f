"""Choosing the rollout backend, without vLLM installed: the errors a user meets, the export
vLLM starts from, and the order in which an update talks to its backend.

The models are random-weight stand-ins (tests/_tiny_models.py): shapes and files only.
"""

from __future__ import annotations

import builtins
import os
import sys

import pytest
from _tiny_models import random_weight_engine, tiny_llama

from azr.engine import EngineConfig, TrainSample
from azr.engine.config import LoraSettings
from azr.engine.lora import add_lora
from azr.engine.vllm_backend import (
    VLLMBackend,
    VLLMUnavailableError,
    export_for_vllm,
    import_vllm,
)
from azr.errors import ConfigError


def _refuse_import(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    real_import = builtins.__import__

    def guarded(name, *args, **kwargs):
        if name == "vllm" or name.startswith("vllm."):
            raise error
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "vllm", raising=False)
    monkeypatch.setattr(builtins, "__import__", guarded)


def test_a_missing_vllm_is_one_line_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _refuse_import(monkeypatch, ImportError("No module named 'vllm'"))
    with pytest.raises(VLLMUnavailableError) as caught:
        import_vllm()
    message = str(caught.value)
    assert "\n" not in message
    assert "pip install 'azr[vllm]'" in message and "make setup-vllm" in message
    assert isinstance(caught.value, ConfigError)


def test_a_broken_vllm_build_names_its_error_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    _refuse_import(monkeypatch, OSError("libtorchcodec.so: undefined symbol"))
    with pytest.raises(VLLMUnavailableError, match="fails to load .*OSError: libtorchcodec.so.*azr\\[vllm\\]"):
        import_vllm()


def test_import_sets_the_in_process_engine_that_weight_reload_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "1")
    _refuse_import(monkeypatch, ImportError("absent"))
    with pytest.raises(VLLMUnavailableError):
        import_vllm()
    assert os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] == "0"


def test_lora_is_refused_before_vllm_is_even_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    _refuse_import(monkeypatch, AssertionError("vLLM must not be imported for a LoRA policy"))
    engine = random_weight_engine()
    policy = add_lora(tiny_llama(), LoraSettings(r=2, alpha=4))
    with pytest.raises(ConfigError, match="LoRA"):
        VLLMBackend(policy, engine.tokenizer, EngineConfig().vllm, engine.device, engine.dtype, seed=0)


def test_the_export_is_written_once_per_architecture_and_reused(tmp_path) -> None:
    engine = random_weight_engine()
    first = export_for_vllm(engine.policy, engine.tokenizer, tmp_path)
    assert (first / "config.json").is_file() and (first / "tokenizer_config.json").is_file()
    stamp = (first / "config.json").stat().st_mtime_ns
    assert export_for_vllm(engine.policy, engine.tokenizer, tmp_path) == first
    assert (first / "config.json").stat().st_mtime_ns == stamp
    other = export_for_vllm(tiny_llama(), engine.tokenizer, tmp_path)
    assert other != first
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.name, other.name])  # no staging left


class _RecordingBackend:
    """Stands in for a rollout backend: records what the engine asks of it, in order."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def suspend(self) -> None:
        self.calls.append("suspend")

    def sync_weights(self, policy) -> None:
        self.calls.append("sync")


def test_an_update_suspends_the_backend_then_hands_it_the_new_weights() -> None:
    engine = random_weight_engine()
    backend = _RecordingBackend()
    engine.backend = backend
    original = engine.updater.update

    def update(samples):
        backend.calls.append("update")
        return original(samples)

    engine.updater.update = update
    sample = TrainSample(prompt_ids=[3, 4], completion_ids=[5, 6], old_logprobs=[-1.0, -1.0], reward=1.0, group="g")
    stats = engine.update([sample, TrainSample([3], [7], [-2.0], 0.0, "g")])
    assert backend.calls == ["suspend", "update", "sync"]
    assert stats.weight_sync_seconds >= 0.0


def test_an_unknown_rollout_backend_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="rollout"):
        EngineConfig(rollout="sglang")
