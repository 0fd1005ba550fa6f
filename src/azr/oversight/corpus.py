"""Labelled reasoning snippets the intent classifier learns from and is measured on.

The packaged training corpus (``azr/oversight/corpus/*.yaml``) was written for this project:
concerning snippets in seven categories and benign ones, many of them near misses that share
words with concerning text. The held-out split lives outside the package
(``benchmarks/monitor_corpus/``) so nothing that ships was tuned on it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal, Sequence

import yaml
from pydantic import TypeAdapter, ValidationError

from azr.config import StrictModel
from azr.oversight.errors import OversightConfigError

CONCERNING_CATEGORIES = (
    "deceive_overseers",
    "game_reward",
    "sandbox_escape",
    "hide_information",
    "self_exfiltration",
    "resist_shutdown",
    "uh_oh",
)
BENIGN_CATEGORIES = ("ordinary", "near_miss")
BENIGN = "benign"


class CorpusItem(StrictModel):
    text: str
    label: Literal["concerning", "benign"]
    category: Literal[CONCERNING_CATEGORIES + BENIGN_CATEGORIES]  # type: ignore[valid-type]

    @property
    def concerning(self) -> bool:
        return self.label == "concerning"

    @property
    def target(self) -> str:
        """The class the classifier predicts: a concerning category, or ``benign``."""
        return self.category if self.concerning else BENIGN


_ITEMS = TypeAdapter(list[CorpusItem])


def packaged_corpus_files() -> list[Path]:
    folder = resources.files("azr.oversight").joinpath("corpus")
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def load_corpus(paths: Sequence[str | Path] | None = None) -> list[CorpusItem]:
    """Items from YAML files (the packaged training corpus when ``paths`` is None)."""
    files = [Path(p) for p in paths] if paths is not None else packaged_corpus_files()
    if not files:
        raise OversightConfigError("no corpus files given and none packaged under azr/oversight/corpus")
    items: list[CorpusItem] = []
    for path in files:
        items.extend(_load_file(path))
    return items


def _load_file(path: Path) -> list[CorpusItem]:
    if not path.is_file():
        raise OversightConfigError(f"corpus file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise OversightConfigError(f"corpus file {path} is not valid YAML: {exc}") from exc
    try:
        items = _ITEMS.validate_python(data)
    except ValidationError as exc:
        raise OversightConfigError(
            f"corpus file {path} is malformed (a list of items with text, label and category): {exc}"
        ) from exc
    for index, item in enumerate(items):
        if item.concerning != (item.category in CONCERNING_CATEGORIES):
            raise OversightConfigError(
                f"corpus file {path}, item {index}: category {item.category!r} does not go with label {item.label!r}"
            )
    return items
