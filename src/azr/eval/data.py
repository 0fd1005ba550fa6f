"""Where benchmark records come from: a local data directory first, then the Hugging Face hub.

Benchmark data is never part of the project. A user points ``--data-dir`` (or the
``AZR_DATA_DIR`` environment variable) at a directory laid out like ``shared/benchmarks``
(one folder per benchmark, see each benchmark's ``source.local``); without one, sets that
have a known hub copy are fetched with ``datasets`` when the hub can be reached.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azr.eval.errors import MissingDataError

log = logging.getLogger(__name__)

DATA_DIR_ENV = "AZR_DATA_DIR"
_OFFLINE_ENV = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")


@dataclass(frozen=True)
class DataSource:
    """Where one benchmark's records live.

    ``local`` is a path under the data directory and may end in a glob (file names carry
    release versions, e.g. ``HumanEvalPlus-v0.1.10.jsonl.gz``); the newest match wins.
    """

    local: str
    hub_id: str | None = None
    hub_config: str | None = None
    hub_split: str = "test"


def resolve_data_dir(explicit: Path | str | None) -> Path | None:
    """The data directory from the option, else from ``AZR_DATA_DIR``, else none (hub only).

    A named directory must exist: a typo fails here, before any model loads or the hub is tried.
    """
    if explicit is not None:
        return require_data_dir(Path(explicit).expanduser(), "--data-dir")
    from_env = os.environ.get(DATA_DIR_ENV)
    return require_data_dir(Path(from_env).expanduser(), DATA_DIR_ENV) if from_env else None


def require_data_dir(path: Path, origin: str) -> Path:
    """``path`` if it is a directory, else an error naming where it came from."""
    if not path.is_dir():
        state = "is not a directory" if path.exists() else "does not exist"
        raise MissingDataError(
            f"data directory {path} (from {origin}) {state}; pass a directory laid out like shared/benchmarks, "
            f"or leave --data-dir and {DATA_DIR_ENV} unset to fetch benchmarks from the Hugging Face hub"
        )
    return path


def find_local(source: DataSource, data_dir: Path | None) -> Path | None:
    """The local file for ``source``, or None when there is no data dir or no matching file."""
    if data_dir is None:
        return None
    matches = sorted(data_dir.glob(source.local))
    return matches[-1] if matches else None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON-lines file, gzip-compressed or not; blank lines are skipped."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_rows(name: str, source: DataSource, data_dir: Path | None) -> list[dict[str, Any]]:
    """Read a benchmark's raw rows, or raise an error that says where we looked and how to fix it."""
    if data_dir is not None:
        require_data_dir(data_dir, "the data directory given")
    path = find_local(source, data_dir)
    if path is not None:
        log.info("%s: reading %s", name, path)
        return read_jsonl(path)
    looked = f"{data_dir / source.local}" if data_dir is not None else "no data directory (--data-dir / AZR_DATA_DIR unset)"
    hub_note = _try_hub(source)
    if isinstance(hub_note, list):
        return hub_note
    raise MissingDataError(
        f"no data for benchmark {name!r}: looked for {looked}; {hub_note}. "
        f"Put the file at DIR/{source.local} and pass --data-dir DIR (or set {DATA_DIR_ENV}=DIR); "
        "a checkout of this project finds the shared copy with --data-dir ../shared/benchmarks"
    )


def _try_hub(source: DataSource) -> list[dict[str, Any]] | str:
    """Rows from the hub, or a sentence saying why the hub gave none."""
    if source.hub_id is None:
        return "it has no known hub copy"
    offline = [var for var in _OFFLINE_ENV if os.environ.get(var, "").strip() not in ("", "0")]
    if offline:
        return f"the hub copy {source.hub_id} was not tried because {offline[0]} is set"
    try:
        from datasets import load_dataset
    except ImportError:
        return f"the hub copy {source.hub_id} needs the 'datasets' package (pip install datasets)"
    try:
        dataset = load_dataset(source.hub_id, source.hub_config, split=source.hub_split)
    except Exception as exc:  # noqa: BLE001 - any hub failure means "not reachable", reported to the user
        return f"the hub copy {source.hub_id} could not be loaded ({type(exc).__name__}: {str(exc)[:200]})"
    return [dict(row) for row in dataset]
