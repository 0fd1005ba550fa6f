"""Regular-expression lexicons: categories of phrases, each with a severity and a verdict.

Lexicons live in YAML so a user can extend or replace them without touching code; the
packaged ones are in ``azr/oversight/lexicons``. Every match is reported with its span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Literal

import yaml
from pydantic import ValidationError

from azr.config import StrictModel, read_yaml
from azr.oversight.decision import Finding, Span
from azr.oversight.errors import OversightConfigError

PACKAGED_LEXICONS = ("task_content", "reasoning_intent")


class Category(StrictModel):
    """One family of phrases. ``fields`` limits it to some texts (empty: every text)."""

    severity: Literal["low", "medium", "high", "critical"]
    verdict: Literal["flag", "veto"] = "flag"
    reason: str
    patterns: list[str]
    fields: list[str] = []


class LexiconFile(StrictModel):
    categories: dict[str, Category]


@dataclass(frozen=True)
class _Compiled:
    name: str
    category: Category
    regexes: tuple[re.Pattern[str], ...]


class Lexicon:
    """A set of categories compiled once; :meth:`scan` returns one finding per match."""

    def __init__(self, categories: dict[str, Category], monitor: str, max_matches_per_category: int = 3) -> None:
        self.monitor = monitor
        self.max_matches = max_matches_per_category
        self._compiled = [_compile(name, category) for name, category in categories.items()]

    @property
    def category_names(self) -> list[str]:
        return [c.name for c in self._compiled]

    def scan(self, field: str, text: str) -> list[Finding]:
        findings: list[Finding] = []
        for compiled in self._compiled:
            if compiled.category.fields and field not in compiled.category.fields:
                continue
            for match in _matches(compiled.regexes, text, self.max_matches):
                findings.append(
                    Finding(
                        monitor=self.monitor,
                        kind=compiled.name,
                        severity=compiled.category.severity,
                        verdict=compiled.category.verdict,
                        reason=compiled.category.reason,
                        span=Span(field=field, start=match.start(), end=match.end(), text=match.group(0)),
                    )
                )
        return findings


def _compile(name: str, category: Category) -> _Compiled:
    regexes = []
    for pattern in category.patterns:
        try:
            regexes.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            raise OversightConfigError(f"lexicon category {name!r}: pattern {pattern!r} is not a valid regex ({exc})") from exc
    return _Compiled(name, category, tuple(regexes))


def _matches(regexes: Iterable[re.Pattern[str]], text: str, limit: int) -> list[re.Match[str]]:
    """The first ``limit`` non-overlapping matches of any of the patterns, in text order."""
    found = sorted((m for regex in regexes for m in regex.finditer(text)), key=lambda m: (m.start(), -m.end()))
    kept: list[re.Match[str]] = []
    for match in found:
        if kept and match.start() < kept[-1].end():
            continue
        kept.append(match)
        if len(kept) == limit:
            break
    return kept


def load_categories(source: str) -> dict[str, Category]:
    """Categories from a packaged lexicon name or a YAML file path."""
    if source in PACKAGED_LEXICONS:
        text = resources.files("azr.oversight").joinpath(f"lexicons/{source}.yaml").read_text()
        data: Any = yaml.safe_load(text)
        origin = f"packaged lexicon {source!r}"
    else:
        path = Path(source)
        if not path.is_file():
            known = ", ".join(PACKAGED_LEXICONS)
            raise OversightConfigError(f"lexicon {source!r} is neither a packaged lexicon ({known}) nor a YAML file")
        data = read_yaml(path)
        origin = f"lexicon file {path}"
    try:
        return LexiconFile.model_validate(data).categories
    except ValidationError as exc:
        raise OversightConfigError(f"{origin} is malformed: {exc}") from exc


def build_lexicon(
    sources: list[str], extra: dict[str, Category], disabled: list[str], monitor: str
) -> Lexicon:
    """Merge lexicon sources in order (later ones replace categories of the same name)."""
    categories: dict[str, Category] = {}
    for source in sources:
        categories.update(load_categories(source))
    categories.update(extra)
    unknown = sorted(set(disabled) - set(categories))
    if unknown:
        raise OversightConfigError(
            f"cannot disable unknown lexicon categories {unknown}; known: {sorted(categories)}"
        )
    return Lexicon({k: v for k, v in categories.items() if k not in disabled}, monitor=monitor)
