"""The one place that turns a user-message text into the token ids the model sees."""

from __future__ import annotations

from typing import Literal

from transformers import PreTrainedTokenizerBase

from azr.errors import ConfigError


class PromptFormatter:
    """Wraps a prompt in the model's chat template, or passes it raw.

    ``auto`` uses the template when the tokenizer has one: instruction-tuned models answer
    far better inside their own template, base models have none.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, mode: Literal["auto", "on", "off"] = "auto") -> None:
        has_template = bool(getattr(tokenizer, "chat_template", None))
        if mode == "on" and not has_template:
            raise ConfigError("chat_template=on, but this model's tokenizer has no chat template; use auto or off")
        self.tokenizer = tokenizer
        self.use_chat_template = has_template and mode != "off"

    def render(self, user_text: str) -> str:
        if not self.use_chat_template:
            return user_text
        return self.tokenizer.apply_chat_template(
            [{"role": "user", "content": user_text}], tokenize=False, add_generation_prompt=True
        )

    def encode(self, user_text: str) -> list[int]:
        # A chat template already writes the special tokens it wants; a raw prompt gets
        # the tokenizer's own (e.g. a BOS token).
        return list(
            self.tokenizer(self.render(user_text), add_special_tokens=not self.use_chat_template)["input_ids"]
        )
