"""Tiny random-weight stand-ins for real models: shapes and maths only, never results."""

import torch
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from azr.engine import Engine, EngineConfig
from azr.engine.models import LoadedModel

VOCAB = 97


def tiny_llama_config(**overrides) -> LlamaConfig:
    settings = dict(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, tie_word_embeddings=True, max_position_embeddings=128,
    )
    return LlamaConfig(**{**settings, **overrides})


def tiny_llama(**overrides) -> LlamaForCausalLM:
    torch.manual_seed(0)
    return LlamaForCausalLM(tiny_llama_config(**overrides))


def forward_logprobs(model, prompt: list[int], completion: list[int], temperature: float = 1.0) -> list[float]:
    """log pi(completion | prompt) from one plain ``model(...)`` call: independent of azr's scoring."""
    ids = torch.tensor([prompt + completion])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, len(prompt) - 1 : -1].float()
    logprobs = torch.log_softmax(logits / temperature, -1)
    return logprobs.gather(-1, torch.tensor(completion)[:, None]).squeeze(-1).tolist()


def random_weight_engine(config: EngineConfig | None = None) -> Engine:
    """A real Engine around a random-weight stand-in (one layer, a word-level tokenizer): shapes and files only.

    The tokenizer has no pre-tokenizer, so any prompt is a single unknown token and always fits.
    """
    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, **{f"w{i}": i + 3 for i in range(61)}}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(WordLevel(vocab, unk_token="<unk>")),
        eos_token="<eos>", pad_token="<pad>", unk_token="<unk>",
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=64,
    ))
    config = config or EngineConfig(device="cpu", dtype="float32")
    return Engine(LoadedModel(model, tokenizer, "random-weight stand-in"), config)
