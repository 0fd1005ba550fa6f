"""Which device and number format to use when the configuration says ``auto``."""

from __future__ import annotations

import torch

from azr.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"engine.device={name!r}, but PyTorch sees no CUDA GPU here; use auto or cpu")
    return device


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """``auto`` is bf16 on a GPU that supports it and float32 elsewhere.

    On CPUs without native bf16 instructions bf16 is emulated, so float32 is the safe
    default there; ask for bfloat16 explicitly to trade precision for memory.
    """
    if name == "float32":
        return torch.float32
    if name == "bfloat16":
        return torch.bfloat16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32
