"""Reading model text: the one reply format every prompt asks for, parsed leniently.

Replies put reasoning in ``<think>...</think>`` and the answer in ``<answer>...</answer>``.
Programs go in a ```` ```python ```` fence; a proposal's inputs are lines ``f(...)`` (what
the prompts show) or ```` ```input ```` fences, and an induction hint a line ``Hint: ...``
or a ```` ```message ```` fence (small models keep the line shapes far better than fences). Small
models are sloppy, so the parser tolerates extra whitespace, upper case tags, a missing
closing tag or fence at the very end, a missing opening tag when the prompt already wrote
it, and a fence wrapped around a literal answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ANSWER_OPEN = re.compile(r"<\s*answer\s*>", re.IGNORECASE)
_ANSWER_CLOSE = re.compile(r"<\s*/\s*answer\s*>", re.IGNORECASE)
_THINK = re.compile(r"<\s*think\s*>.*?<\s*/\s*think\s*>", re.IGNORECASE | re.DOTALL)
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)

_LABELLED_LINE = re.compile(r"^[ \t*#>-]*(hint|message)[ \t*]*:[ \t*]*(.+)$", re.IGNORECASE | re.MULTILINE)
_CALL_LINE = re.compile(r"^[ \t]*(f\(.*\))[ \t]*$", re.MULTILINE)

_LANGUAGE_ALIASES = {"py": "python", "python3": "python", "inputs": "input", "msg": "message", "hint": "message"}


@dataclass(frozen=True)
class Fence:
    """One fenced block: its language tag (lower case, aliases resolved) and its body."""

    language: str
    body: str


def answer_block(text: str) -> str | None:
    """The answer: the last ``<answer>`` block (to the end if unclosed), or None if there is none.

    When the prompt itself ended with ``<answer>``, the reply starts inside the block: its
    answer is the text before the first ``</answer>`` (reasoning aside), and any blocks after
    it are the model continuing the prompt's examples, not answers.
    """
    first_open = _ANSWER_OPEN.search(text)
    first_close = _ANSWER_CLOSE.search(text)
    if first_close is not None and (first_open is None or first_close.start() < first_open.start()):
        return _THINK.sub("", text[: first_close.start()]).strip()
    opens = list(_ANSWER_OPEN.finditer(text))
    if not opens:
        return None
    rest = text[opens[-1].end() :]
    close = _ANSWER_CLOSE.search(rest)
    return (rest[: close.start()] if close else rest).strip()


def answer_region(text: str) -> str:
    """Where fenced blocks are looked for: the answer block, else the text outside ``<think>``."""
    block = answer_block(text)
    return block if block is not None else _THINK.sub("", text)


def fences(text: str) -> list[Fence]:
    """Every fenced block in order; an unclosed fence at the end runs to the end of the text."""
    found = []
    for match in _FENCE.finditer(text):
        language = match.group(1).lower()
        found.append(Fence(_LANGUAGE_ALIASES.get(language, language), match.group(2).strip()))
    return found


def unfence(text: str) -> str:
    """The body of the first fence if ``text`` starts with one, else ``text`` stripped."""
    stripped = text.strip()
    if stripped.startswith("```"):
        blocks = fences(stripped)
        if blocks:
            return blocks[0].body
    return stripped.strip("`").strip()


def program_in(text: str) -> str | None:
    """The program of a reply: the first ``python`` fence, else the first untagged fence, else None."""
    blocks = fences(text)
    for wanted in ("python", ""):
        for block in blocks:
            if block.language == wanted and block.body:
                return block.body
    return None


def blocks_of(text: str, language: str) -> list[str]:
    """Bodies of the non-empty fences tagged ``language``."""
    return [block.body for block in fences(text) if block.language == language and block.body]


def hint_in(text: str) -> str:
    """The hint of a reply: the ``message`` fences, else the first ``Hint:`` line; whitespace collapsed."""
    blocks = blocks_of(text, "message")
    if not blocks:
        line = _LABELLED_LINE.search(text)
        blocks = [line.group(2)] if line else []
    return " ".join(" ".join(blocks).split())


def inputs_in(text: str) -> list[str]:
    """Inputs of a reply: the ``input`` fences, then every line that is a whole call ``f(...)``."""
    return blocks_of(text, "input") + [match.group(1) for match in _CALL_LINE.finditer(text)]
