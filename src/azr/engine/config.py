"""The engine's settings: which model, how to sample it and how to update it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from azr.config import StrictModel


class LoraSettings(StrictModel):
    """Low-rank adapters through peft: train a few million numbers instead of the whole model."""

    r: int = Field(16, gt=0)
    alpha: int = Field(32, gt=0)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    target_modules: list[str] = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


class VLLMSettings(StrictModel):
    """vLLM as the rollout backend (``engine.rollout=vllm``), colocated in the trainer's process."""

    enforce_eager: bool = Field(
        True, description="skip torch.compile and CUDA graphs: starts in ~18 s instead of 70-150 s on CPU"
    )
    max_model_len: int | None = Field(None, ge=16, description="longest sequence vLLM plans for; None: the model's context")
    kv_cache_gib: float = Field(1.0, gt=0, description="CPU only: memory reserved for vLLM's KV cache")
    gpu_memory_utilization: float = Field(
        0.4, gt=0, le=1, description="GPU only: share of GPU memory vLLM takes; the rest is the trainer's"
    )
    sleep_during_update: bool = Field(
        True, description="GPU only: move vLLM's weights to host and free its KV cache while the update runs"
    )


class EngineConfig(StrictModel):
    """Everything the engine needs; defaults follow the Absolute Zero paper where it says."""

    model: str = "smollm2-135m"
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    device: str = "auto"
    chat_template: Literal["auto", "on", "off"] = "auto"
    seed: int = 0

    lr: float = Field(1e-6, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    clip_ratio: float = Field(0.2, gt=0)
    ppo_epochs: int = Field(1, ge=1)
    mini_batch_size: int | None = Field(
        None, ge=1, description="sequences per optimizer step; None makes each update one step (the paper's setting)"
    )
    micro_batch_size: int = Field(4, ge=1, description="sequences per forward/backward (gradient accumulation)")
    kl_coef: float = Field(
        0.0, ge=0, description="weight of the KL penalty to a frozen reference; 0 keeps no reference"
    )
    entropy_coef: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    apply_updates: bool = Field(
        True,
        description="False makes a control run: every update computes its loss and gradients but skips the "
        "optimizer step, so the weights never change while sampling, buffers and timing stay as in a real run",
    )
    lora: LoraSettings | None = None
    gradient_checkpointing: bool = Field(False, description="recompute decoder activations in backward to save memory")

    max_prompt_tokens: int | None = Field(
        None, ge=1, description="longest prompt, in tokens, that is sampled; longer ones are skipped. None: the model's context"
    )
    logprob_chunk_tokens: int = Field(
        1024, ge=1, description="tokens whose full-vocabulary logits exist at one time in an update"
    )
    rollout: Literal["transformers", "vllm"] = Field(
        "transformers", description="what samples rollouts: our sampler over transformers, or vLLM (pip install 'azr[vllm]')"
    )
    vllm: VLLMSettings = VLLMSettings()
    rollout_batch_size: int | None = Field(
        None, ge=1, description="sequences per generation batch; None picks 16 on CPU and 256 on a GPU"
    )
    cache_dir: str | None = Field(
        None, description="where converted GGUF models are kept; None reads AZR_CACHE_DIR, else ~/.cache/azr"
    )
