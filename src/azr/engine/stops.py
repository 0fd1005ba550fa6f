"""Stop strings: noticed while sampling, then cut so ids, log-probs and text agree."""

from __future__ import annotations

from typing import Sequence

from transformers import PreTrainedTokenizerBase

from azr.engine.backend import Completion


class StopStrings:
    """Finds the first stop string in a completion.

    While sampling only the last few tokens are decoded (a stop string of k characters
    lies within the last k+1 tokens that produced text), so the check costs the same at
    token 10 and at token 1000.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, stops: Sequence[str]) -> None:
        self.tokenizer = tokenizer
        self.stops = tuple(s for s in stops if s)
        self.window = max((len(s) for s in self.stops), default=0) + 2

    def __bool__(self) -> bool:
        return bool(self.stops)

    def _decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)

    def seen_in_tail(self, ids: Sequence[int]) -> bool:
        tail = self._decode(ids[-self.window :])
        return any(s in tail for s in self.stops)

    def _first_stop_end(self, text: str) -> int | None:
        ends = [text.find(s) + len(s) for s in self.stops if s in text]
        return min(ends) if ends else None

    def cut(self, ids: list[int]) -> tuple[int, str] | None:
        """Return (how many tokens to keep, text through the end of the stop string), or None.

        The token that completes the stop string is kept (the model must learn to emit
        it); the text ends exactly after the stop string, which stays in the text.
        """
        if self._first_stop_end(self._decode(ids)) is None:
            return None
        low, high = 1, len(ids)
        while low < high:  # fewest tokens whose text already holds the stop string
            mid = (low + high) // 2
            if self._first_stop_end(self._decode(ids[:mid])) is not None:
                high = mid
            else:
                low = mid + 1
        text = self._decode(ids[:low])
        return low, text[: self._first_stop_end(text)]


def finish_completion(
    tokenizer: PreTrainedTokenizerBase, stops: StopStrings, tokens: list[int], logprobs: list[float], finish: str
) -> Completion:
    """The completion as every backend returns it: cut after its first stop string, if any."""
    cut = stops.cut(tokens) if stops else None
    if cut is not None:
        keep, text = cut
        return Completion(tokens[:keep], logprobs[:keep], text, "stop")
    return Completion(tokens, logprobs, tokenizer.decode(tokens, skip_special_tokens=True), finish)
