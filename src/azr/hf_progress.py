"""Quiet local model loads and saves: transformers' progress bars tell a user nothing there.

Every checkpoint write and read, the conversion of the packaged GGUF model and the
oversight's sentence model would each flash a "Loading weights" or "Writing model shards"
bar. Downloads from the hub are left alone, since a first download of a large model can
take minutes and its bar is then the only sign of progress.

transformers' GGUF converter calls ``tqdm`` itself, outside its own switch, so inside the
block that module's ``tqdm`` is swapped for one that is disabled.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_progress_bars() -> Iterator[None]:
    """Turn transformers' (and huggingface_hub's) bars off inside the block, and back on only if they were on."""
    from transformers.utils import logging as hf_logging

    from transformers import modeling_gguf_pytorch_utils as gguf_loader

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    gguf_tqdm = gguf_loader.tqdm
    gguf_loader.tqdm = functools.partial(gguf_tqdm, disable=True)
    try:
        yield
    finally:
        gguf_loader.tqdm = gguf_tqdm
        if enabled:
            hf_logging.enable_progress_bar()
