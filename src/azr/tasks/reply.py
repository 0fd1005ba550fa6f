"""The shape of a reply, for both roles: reason in ``<think>`` first, or answer directly.

In Absolute Zero every prompt is wrapped so that the model's reply starts inside
``<think>``: it reasons, closes the block, then answers inside ``<answer>...</answer>``, and
a reply of any other shape earns the format penalty. That reasoning is what the paper's
behaviours (and its "uh-oh moment") came from, and what the reasoning monitor reads. The
``direct`` style starts the reply inside ``<answer>`` instead, for models too small to
reason usefully; its parsing stays lenient, as before.

Task types build their prompts from this object, so a style is one setting and never a
branch in a task type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ReplyStyle = Literal["think", "direct"]

_THINK_CLOSE = re.compile(r"<\s*/\s*think\s*>", re.IGNORECASE)
_THINK_OPEN = re.compile(r"<\s*think\s*>", re.IGNORECASE)
_ANSWER_OPEN = re.compile(r"<\s*answer\s*>", re.IGNORECASE)
_ANSWER_CLOSE = re.compile(r"<\s*/\s*answer\s*>", re.IGNORECASE)


@dataclass(frozen=True)
class ReplyFormat:
    """How prompts end and example replies look, and whether a completion has the right shape."""

    style: ReplyStyle = "direct"

    @property
    def opening(self) -> str:
        """The tag a prompt ends with: the completion continues inside it."""
        return "<think>" if self.style == "think" else "<answer>"

    def instruction(self, answer: str) -> str:
        """One sentence telling the model where its reasoning and its ``answer`` go."""
        if self.style == "think":
            return f"First reason step by step inside <think></think>, then give {answer} inside <answer></answer>."
        return f"Give {answer} inside <answer></answer>."

    def example(self, reasoning: str, answer: str) -> str:
        """A worked example's whole reply, opening tag included, as the prompt shows it."""
        if self.style == "think":
            return f"<think>\n{reasoning}\n</think>\n<answer>{answer}</answer>"
        return f"<answer>{answer}</answer>"

    def problem(self, completion: str) -> str | None:
        """Why ``completion`` (the text after the prompt's opening tag) has the wrong shape, or None.

        The think style requires the reasoning to be closed and followed by one answer block
        that is closed too; a reply cut off by the token budget is malformed, as in AZR.
        """
        if self.style != "think":
            return None
        close = _THINK_CLOSE.search(completion)
        if close is None:
            return "the reasoning is never closed with </think>"
        reasoning = completion[: close.start()]
        if _ANSWER_OPEN.search(reasoning) or _THINK_OPEN.search(reasoning):
            return "the reply opens another block before closing </think>"
        if not reasoning.strip():
            return "the <think> block is empty"
        rest = completion[close.end() :]
        opened = _ANSWER_OPEN.search(rest)
        if opened is None:
            return "no <answer> block after </think>"
        if rest[: opened.start()].strip():
            return "text between </think> and <answer>"
        if _ANSWER_CLOSE.search(rest, opened.end()) is None:
            return "the <answer> block is never closed"
        return None

    def reasoning(self, completion: str) -> str:
        """The reasoning text of a completion: what the reasoning monitor should read."""
        if self.style == "think":
            close = _THINK_CLOSE.search(completion)
            return (completion[: close.start()] if close else completion).strip()
        opened, closed = _THINK_OPEN.search(completion), _THINK_CLOSE.search(completion)
        if opened and closed and closed.start() > opened.end():
            return completion[opened.end() : closed.start()].strip()
        return ""
