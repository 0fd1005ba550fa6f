"""The executor's settings: pool shape, resource limits, and which layers are mandatory."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from azr.config import StrictModel

LAYER_NAMES = ("session", "rlimits", "uid", "landlock-fs", "landlock-net", "landlock-scope", "seccomp")

# Pure-computation modules a task program may import. They are imported by every worker
# before it forks, because after the uid drop the child can no longer read an interpreter
# that lives under a private home directory; `import` of anything else fails cleanly.
DEFAULT_PRELOAD = [
    "math", "cmath", "collections", "collections.abc", "itertools", "functools", "re", "string",
    "heapq", "bisect", "operator", "copy", "fractions", "decimal", "statistics", "random",
    "typing", "dataclasses", "enum", "json", "datetime", "time", "array", "numbers", "textwrap",
    "unicodedata", "hashlib", "base64", "struct", "abc", "contextlib", "types", "pprint",
    # codecs are looked up by import on first use, so the common ones come along too
    "encodings.idna", "encodings.utf_16", "encodings.utf_32", "encodings.rot_13", "encodings.hex_codec",
    "encodings.base64_codec", "encodings.cp1252", "encodings.cp437",
]


def known_layer_names(value: list[str]) -> list[str]:
    """A settings list of sandbox layer names, refused whole if one is not a layer."""
    unknown = [name for name in value if name not in LAYER_NAMES]
    if unknown:
        raise ValueError(f"unknown layer(s) {unknown}; known layers: {', '.join(LAYER_NAMES)}")
    return value


LayerNames = Annotated[list[str], AfterValidator(known_layer_names)]


class ExecutorConfig(StrictModel):
    """How many warm workers to keep and what every sandboxed child may use.

    ``workers`` counts fork-servers per seed slot; ``seed_slots`` groups of them run with
    different ``PYTHONHASHSEED`` values so the same program can be checked for determinism.
    """

    workers: int = Field(2, ge=1, le=64)
    seed_slots: int = Field(2, ge=1, le=8)
    cpu_time_s: int = Field(10, ge=1, description="RLIMIT_CPU of each child (seconds of CPU).")
    memory_mb: int = Field(1024, ge=64, description="RLIMIT_AS of each child, in MiB of address space.")
    max_output_bytes: int = Field(65536, ge=0, description="stdout+stderr kept per snippet; the rest is dropped.")
    output_kill_bytes: int = Field(16 << 20, ge=0, description="A child printing more than this is killed.")
    max_value_bytes: int = Field(65536, ge=16, description="Longest value repr returned; longer is an error.")
    max_file_bytes: int = Field(8 << 20, ge=0, description="RLIMIT_FSIZE: largest file a child may write.")
    max_scratch_bytes: int = Field(
        64 << 20, ge=1 << 20,
        description="Total size of the scratch directory: a tmpfs of this size when the executor runs as root, "
                    "else checked after each run (a run past it fails).")
    max_open_files: int = Field(64, ge=8, description="RLIMIT_NOFILE of each child.")
    max_threads: int = Field(16, ge=1, description="RLIMIT_NPROC of each child's uid.")
    default_timeout_s: float = Field(5.0, gt=0, description="Wall-clock limit of a snippet without its own.")
    require_layers: LayerNames = Field(default_factory=list, description="Refuse to start unless these are active.")
    preload_modules: list[str] = Field(default_factory=lambda: list(DEFAULT_PRELOAD))
    extra_read_paths: list[str] = Field(default_factory=list, description="More paths a child may read.")
    sandbox_uid: int = Field(
        61000, ge=1, description="First unprivileged uid; each executor leases a free block of seed_slots x workers from here."
    )
    python: str | None = Field(None, description="Interpreter for the workers; default: the current one.")
    hash_seed_base: int = Field(0, ge=0, description="Slot k runs with PYTHONHASHSEED = base + k + 1.")

