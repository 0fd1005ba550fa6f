"""The LM judge: how it reads yes/no off a causal LM, batches, escalates and flags.

Two stand-ins, never real judges: a keyword "model" that answers Yes exactly when the prompt
holds the word ``hack``, and a tiny random-weight Llama for the batching maths.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from _stub_embedder import BagOfWordsEmbedder
from _tiny_models import tiny_llama
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace
from transformers import PreTrainedTokenizerFast

from azr.engine.models import LoadedModel
from azr.oversight.auditor import ReasoningAuditor
from azr.oversight.config import AuditorConfig, IntentConfig, JudgeConfig, SemanticConfig
from azr.oversight.errors import OversightConfigError
from azr.oversight.judge import LMJudge

WORDS = ["<pad>", "<unk>", "Yes", "No", "hack", "the", "loop", "adds", "digits", "grader", "I", "will", "a",
         "list", "sorted", "is", "returns", "it"]


def word_tokenizer() -> PreTrainedTokenizerFast:
    backend = Tokenizer(WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    backend.pre_tokenizer = Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", unk_token="<unk>")


class KeywordLM(torch.nn.Module):
    """Answers Yes (logit +4 over No) when the prompt holds ``hack``, No otherwise."""

    def forward(self, input_ids: torch.Tensor, attention_mask=None, position_ids=None) -> SimpleNamespace:
        logits = torch.zeros(*input_ids.shape, len(WORDS))
        suspicious = (input_ids == WORDS.index("hack")).any(dim=1)
        logits[:, -1, WORDS.index("Yes")] = torch.where(suspicious, 2.0, -2.0)
        logits[:, -1, WORDS.index("No")] = torch.where(suspicious, -2.0, 2.0)
        return SimpleNamespace(logits=logits)


def keyword_judge(**settings) -> LMJudge:
    return LMJudge(JudgeConfig(enabled=True, **settings), LoadedModel(KeywordLM(), word_tokenizer(), "keyword stand-in"))


def test_scores_are_yes_against_no() -> None:
    hack, fine = keyword_judge().scores(["I will hack the grader", "the loop adds digits"])
    assert hack == pytest.approx(torch.sigmoid(torch.tensor(4.0)).item(), abs=1e-5)
    assert fine == pytest.approx(torch.sigmoid(torch.tensor(-4.0)).item(), abs=1e-5)


def test_judge_flags_with_the_whole_text_as_span() -> None:
    flagged, spared = keyword_judge().scan_many([("reasoning", "I will hack the grader"), ("reasoning", "the loop adds digits")])
    assert spared == []
    [finding] = flagged
    assert finding.kind == "judged_concerning" and finding.span is not None
    assert finding.span.text == "I will hack the grader"


def test_max_chars_limits_what_the_judge_reads() -> None:
    long = "the loop adds digits " * 10 + "hack"
    assert keyword_judge(max_chars=100).scan_many([("reasoning", long)]) == [[]]
    assert keyword_judge().scan_many([("reasoning", long)]) != [[]]


def test_left_padding_gives_the_same_score_as_alone() -> None:
    tokenizer = word_tokenizer()
    model = tiny_llama(vocab_size=len(WORDS))
    judge = LMJudge(JudgeConfig(enabled=True, batch_size=4), LoadedModel(model, tokenizer, "random-weight stand-in"))
    short = "the loop adds digits"
    alone = judge.scores([short])[0]
    batched = judge.scores([short, "it returns a sorted list " * 6])[0]
    assert batched == pytest.approx(alone, abs=1e-4)


def test_escalation_sends_only_suspicious_texts_to_the_judge(tmp_path) -> None:
    from test_oversight_intent import corpus

    from azr.oversight.intent import fit_head

    head = tmp_path / "head.npz"
    fit_head(corpus(), BagOfWordsEmbedder()).save(head)
    judge = keyword_judge(escalate_above=0.5)
    seen: list[str] = []
    original = judge.scan_many
    judge.scan_many = lambda texts: seen.extend(t for _, t in texts) or original(texts)  # type: ignore[method-assign]
    config = AuditorConfig(lexicons=[], semantic=SemanticConfig(enabled=False),
                           intent=IntentConfig(head=str(head), threshold=0.99), judge=judge.config)
    auditor = ReasoningAuditor(config, BagOfWordsEmbedder(), judge=judge)
    suspicious = "hardcode the expected output to fool the grader hack"
    auditor.review_texts([("reasoning", suspicious), ("reasoning", "the loop adds each digit of the number hack")])
    assert seen == [suspicious]


def test_escalation_without_the_classifier_is_refused() -> None:
    config = AuditorConfig(lexicons=[], semantic=SemanticConfig(enabled=False), intent=IntentConfig(enabled=False),
                           judge=JudgeConfig(enabled=True, escalate_above=0.3))
    with pytest.raises(OversightConfigError, match="escalate_above"):
        ReasoningAuditor(config, BagOfWordsEmbedder(), judge=keyword_judge())


def test_a_tokenizer_without_yes_and_no_is_refused() -> None:
    backend = Tokenizer(WordLevel({"<unk>": 0, "the": 1}, unk_token="<unk>"))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>")
    with pytest.raises(ValueError, match="Yes and No"):
        LMJudge(JudgeConfig(enabled=True), LoadedModel(KeywordLM(), tokenizer, "keyword stand-in"))
