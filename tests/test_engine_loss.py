"""The loss, the chunked log-probs, sampling and stop strings, on hand values and a tiny
random-weight stand-in model (the real model is exercised in test_engine_model.py)."""

import math

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from azr.engine.logprobs import PackedBatch, completion_logprobs
from azr.engine.loss import clipped_policy_loss
from azr.engine.sampling import draw, sample_tokens
from azr.engine.stops import StopStrings


def test_clipped_loss_against_hand_values():
    old = torch.zeros(4)
    new = torch.log(torch.tensor([1.5, 1.5, 0.5, 0.5])).requires_grad_()
    advantages = torch.tensor([1.0, -1.0, 1.0, -1.0])
    terms = clipped_policy_loss(new, old, advantages, torch.zeros(4), clip_ratio=0.2)
    # max(-A r, -A clip(r)): r=1.5 -> -1.2 (A=+1), 1.5 (A=-1); r=0.5 -> -0.5 (A=+1), 0.8 (A=-1)
    assert terms.policy_loss_sum == pytest.approx(-1.2 + 1.5 - 0.5 + 0.8)
    assert terms.clipped_tokens == 4
    terms.loss_sum.backward()
    # Clipped terms carry no gradient; unclipped ones carry d(-A r)/d log r = -A r.
    assert new.grad.tolist() == pytest.approx([0.0, 1.5, -0.5, 0.0])


def test_kl_and_entropy_terms():
    logprobs = torch.tensor([-1.0, -2.0])
    ref = torch.tensor([-1.5, -1.0])
    entropy = torch.tensor([2.0, 3.0])
    terms = clipped_policy_loss(
        logprobs, logprobs, torch.zeros(2), entropy, 0.2, ref_logprobs=ref, kl_coef=0.1, entropy_coef=0.01
    )
    kl = sum(math.exp(d) - d - 1 for d in (-0.5, 1.0))
    assert terms.kl_sum == pytest.approx(kl, rel=1e-6)
    assert terms.loss_sum.item() == pytest.approx(0.1 * kl - 0.01 * 5.0, rel=1e-5)


@pytest.fixture(scope="module")
def stub_model():
    """A tiny random-weight Llama: shapes and maths only, never a stand-in for results."""
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config).eval()


def _batch():
    prompts = [[5, 6, 7], [8, 9, 10, 11, 12]]
    completions = [[20, 21, 22, 23], [30, 31]]
    return PackedBatch.build(prompts, completions, [1.0, 0.5], pad_id=0, device=torch.device("cpu"))


def test_packed_batch_scores_exactly_the_completion_tokens():
    batch = _batch()
    assert batch.targets.tolist() == [20, 21, 22, 23, 30, 31]
    assert batch.sample_index.tolist() == [0, 0, 0, 0, 1, 1]
    assert batch.temperatures.tolist() == [1.0] * 4 + [0.5] * 2
    # position t predicts token t+1: prompt end .. one before the last token
    assert batch.predicts[0].nonzero().flatten().tolist() == [2, 3, 4, 5]
    assert batch.predicts[1].nonzero().flatten().tolist() == [4, 5]


def test_chunked_logprobs_match_a_plain_forward_and_its_gradient(stub_model):
    batch = _batch()
    logits = stub_model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
    plain = torch.log_softmax(logits[batch.predicts] / batch.temperatures[:, None], -1)
    expected = plain.gather(-1, batch.targets[:, None]).squeeze(-1)
    expected.sum().backward()
    expected_grad = stub_model.model.embed_tokens.weight.grad.clone()
    stub_model.zero_grad()

    chunked, entropy = completion_logprobs(stub_model, batch, chunk_tokens=4)
    chunked.sum().backward()
    assert torch.allclose(chunked, expected, atol=1e-5)
    assert torch.allclose(stub_model.model.embed_tokens.weight.grad, expected_grad, atol=1e-5)
    assert torch.allclose(entropy, -(plain.exp() * plain).sum(-1), atol=1e-5)
    stub_model.zero_grad()


def test_greedy_and_tiny_top_p_pick_the_argmax():
    logits = torch.tensor([[0.0, 3.0, 1.0], [2.0, 0.0, -1.0]])
    greedy, greedy_lp = sample_tokens(logits, 0.0, 1.0, None)
    assert greedy.tolist() == [1, 0]
    assert greedy_lp.tolist() == pytest.approx(torch.log_softmax(logits, -1).max(-1).values.tolist())
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):
        tokens, logprobs = sample_tokens(logits, 0.7, 0.01, generator)
        assert tokens.tolist() == [1, 0]
        # recorded under the temperature-scaled policy, before top-p truncation
        assert logprobs.tolist() == pytest.approx(torch.log_softmax(logits / 0.7, -1).max(-1).values.tolist())


class CharTokenizer:
    """One token per character (ids are code points); stands in for a real tokenizer."""

    def decode(self, ids, skip_special_tokens=True):
        return "".join(chr(i) for i in ids)


def test_stop_string_cuts_ids_and_text_together():
    stops = StopStrings(CharTokenizer(), ["</answer>", "\n\n"])
    ids = [ord(c) for c in "x = 1</answer> and more\n\n"]
    assert stops.seen_in_tail(ids[: len("x = 1</answer>")])
    assert not stops.seen_in_tail(ids[: len("x = 1</answ")])
    keep, text = stops.cut(ids)
    assert text == "x = 1</answer>"
    assert keep == len(text)
    assert stops.cut([ord(c) for c in "no stop here"]) is None


def test_draw_follows_the_distribution_and_never_picks_a_zero_probability_token():
    probs = torch.tensor([[0.5, 0.0, 0.3, 0.2, 0.0], [0.0, 0.0, 0.0, 0.0, 2.0]]).repeat(20000, 1)
    tokens = draw(probs, torch.Generator().manual_seed(0))
    first, second = tokens[0::2], tokens[1::2]
    shares = torch.bincount(first, minlength=5).double() / len(first)
    assert shares.tolist() == pytest.approx([0.5, 0.0, 0.3, 0.2, 0.0], abs=0.01)
    assert set(second.tolist()) == {4}  # an unnormalised row with one live token
