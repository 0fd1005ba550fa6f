"""Optional LoRA adapters through peft."""

from __future__ import annotations

from pathlib import Path

from peft import LoraConfig, PeftModel, get_peft_model, set_peft_model_state_dict
from safetensors.torch import load_file
from transformers import PreTrainedModel

from azr.engine.config import LoraSettings
from azr.engine.errors import CheckpointError

ADAPTER_WEIGHTS = "adapter_model.safetensors"


def add_lora(model: PreTrainedModel, settings: LoraSettings) -> PeftModel:
    config = LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=list(settings.target_modules),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def load_lora_weights(model: PeftModel, directory: Path) -> None:
    path = directory / ADAPTER_WEIGHTS
    if not path.is_file():
        raise CheckpointError(f"{directory} holds no {ADAPTER_WEIGHTS}: it was not saved by an engine with LoRA")
    set_peft_model_state_dict(model, load_file(str(path)))
