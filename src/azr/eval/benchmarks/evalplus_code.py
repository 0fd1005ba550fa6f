"""HumanEval+ and MBPP+: write a function; it must agree with the reference on every test input.

Records come through evalplus's own data loaders, pointed at local files by
``HUMANEVAL_OVERRIDE_PATH`` / ``MBPP_OVERRIDE_PATH`` (without a data directory evalplus
downloads its release itself). Judging is evalplus's differential testing, but executed in
our sandbox, not evalplus's: one snippet per completion runs the reference solution and
the candidate on the base and plus inputs and compares the results. The comparison follows
evalplus (exact equality, floats within ``atol`` or 1e-6, set equality or "not None" for
the MBPP tasks evalplus lists); its hand-written oracles for HumanEval/32 (a polynomial
root) are reproduced, those for Mbpp/164, 295, 558 and 581 are not, so on those four a
correct answer that differs from the reference in the way evalplus forgives counts wrong.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Any, Sequence

from azr.eval.benchmarks.base import Benchmark, Judgement, Record, failure_reason, register
from azr.eval.data import DataSource, find_local
from azr.eval.errors import EvalError, MissingDataError
from azr.executor.types import Snippet, SnippetRunner

_TIMEOUT_S = 60.0

# Runs inside the sandbox. The reference and the candidate each get their own namespace so
# neither can shadow the other's names; every call gets a fresh deep copy of its arguments
# because some candidates mutate them.
_HARNESS = '''
import copy as _copy
import math as _math
inf = float("inf")
nan = float("nan")
_REFERENCE = {reference!r}
_CANDIDATE = {candidate!r}
_ENTRY = {entry!r}
_MODE = {mode!r}
_ATOL = {atol!r}
_INPUTS = {inputs}


def _close(want, got, atol):
    if isinstance(want, float) or isinstance(got, float):
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            return False
        if _math.isnan(want) and _math.isnan(got):
            return True
        return abs(want - got) <= atol + 1e-7 * abs(want)
    if isinstance(want, (list, tuple)) and type(want) is type(got) and len(want) == len(got):
        return all(_close(w, g, atol) for w, g in zip(want, got))
    return False


def _truth(value):
    return value if isinstance(value, bool) else value is not None


def _agrees(args, want, got):
    if _MODE == "set":
        return set(got) == set(want)
    if _MODE == "not_none":
        return _truth(want) == _truth(got)
    if _MODE == "poly_root":
        return abs(sum(c * _math.pow(got, i) for i, c in enumerate(args[0]))) <= _ATOL
    return want == got or _close(want, got, _ATOL or 1e-6)


def _run():
    ref_ns, cand_ns = {{}}, {{}}
    exec(_REFERENCE, ref_ns)
    exec(_CANDIDATE, cand_ns)
    reference, candidate = ref_ns[_ENTRY], cand_ns.get(_ENTRY)
    if not callable(candidate):
        return ("no function named " + _ENTRY, 0)
    passed = 0
    for args in _INPUTS:
        want = reference(*_copy.deepcopy(args))
        got = candidate(*_copy.deepcopy(args))
        if not _agrees(args, want, got):
            return ("wrong result on input " + repr(args)[:120], passed)
        passed += 1
    return ("pass", passed)
'''


def _load_evalplus(name: str, source: DataSource, data_dir: Path | None, env: str, loader: str) -> dict[str, dict[str, Any]]:
    """Call evalplus's loader with its override path set (the module reads the variable at import)."""
    try:
        import evalplus.data as evalplus_data
        import evalplus.data.humaneval as humaneval_module
        import evalplus.data.mbpp as mbpp_module
    except ImportError as exc:
        raise EvalError(
            f"{name} needs evalplus's data loader ({exc}); `make setup` installs it "
            "(pip install --no-deps evalplus plus tempdir, wget, appdirs, datasets)"
        ) from exc
    path = find_local(source, data_dir)
    if path is None and data_dir is not None:
        raise MissingDataError(
            f"no data for benchmark {name!r}: looked for {data_dir / source.local}. Put the evalplus release file "
            f"there and pass --data-dir DIR (or set AZR_DATA_DIR=DIR), or run without a data directory "
            "to let evalplus download it"
        )
    if path is not None:
        os.environ[env] = str(path)
        setattr(humaneval_module if env.startswith("HUMANEVAL") else mbpp_module, env, str(path))
    try:
        return getattr(evalplus_data, loader)()
    except Exception as exc:  # noqa: BLE001 - evalplus raises anything from a failed download
        raise MissingDataError(
            f"no data for benchmark {name!r}: no data directory was given and evalplus could not fetch its "
            f"release ({type(exc).__name__}: {str(exc)[:200]}); pass --data-dir DIR with DIR/{source.local}"
        ) from exc


def _literal(value: Any) -> str:
    """Python source for a test input; ``repr`` is exact for the types evalplus inputs hold."""
    return repr(value)


def strip_fences(text: str) -> str:
    """The code of a completion that may wrap it in a Markdown fence (chat replies usually do)."""
    if "```" not in text:
        return text
    block = text.split("```")[1]
    first, _, rest = block.partition("\n")
    return rest if not first.strip() or first.strip().isidentifier() else block


class _EvalPlus(Benchmark):
    family = "code"
    max_new_tokens = 384
    chat_stop = ()
    _env: str
    _loader: str
    _set_tasks: frozenset[str] = frozenset()
    _not_none_tasks: frozenset[str] = frozenset()

    def load(self, data_dir: Path | None) -> list[Record]:
        problems = _load_evalplus(self.name, self.source, data_dir, self._env, self._loader)
        return self.records(list(problems.values()))

    def records(self, rows: Sequence[dict[str, Any]]) -> list[Record]:
        keep = ("prompt", "entry_point", "canonical_solution", "base_input", "plus_input", "atol")
        return [Record(id=row["task_id"], fields={k: row[k] for k in keep}) for row in rows]

    def candidate(self, record: Record, completion: str) -> str:
        """The full program a completion stands for."""
        return self.prompt(record) + completion

    def reference(self, record: Record) -> str:
        return record.fields["prompt"] + record.fields["canonical_solution"]

    def mode(self, record: Record) -> str:
        entry = record.fields["entry_point"]
        return "set" if entry in self._set_tasks else "not_none" if entry in self._not_none_tasks else "exact"

    def snippet(self, record: Record, completion: str) -> Snippet:
        inputs = [*record.fields["base_input"], *record.fields["plus_input"]]
        code = _HARNESS.format(
            reference=self.reference(record),
            candidate=self.candidate(record, completion),
            entry=record.fields["entry_point"],
            mode=self.mode(record),
            atol=float(record.fields["atol"]),
            inputs="[" + ", ".join(_literal(args) for args in inputs) + "]",
        )
        return Snippet(code=code, call="_run()", timeout_s=_TIMEOUT_S)

    def judge(self, records: Sequence[Record], completions: Sequence[str], runner: SnippetRunner) -> list[Judgement]:
        results = runner.run_batch([self.snippet(r, c) for r, c in zip(records, completions)])
        judgements = []
        for completion, result in zip(completions, results):
            if not result.ok:
                judgements.append(Judgement(False, completion, failure_reason(result)))
                continue
            try:
                verdict, _passed = ast.literal_eval(result.value_repr or "")
            except (ValueError, SyntaxError, TypeError):
                judgements.append(Judgement(False, completion, f"unreadable harness result {result.value_repr!r:.80}"))
                continue
            judgements.append(Judgement(verdict == "pass", completion, "" if verdict == "pass" else str(verdict)))
        return judgements


@register
class HumanEvalPlus(_EvalPlus):
    """HumanEval+ (164 problems): complete a function from its signature and docstring."""

    name = "humaneval+"
    title = "HumanEval+"
    source = DataSource(local="humanevalplus/HumanEvalPlus-*.jsonl.gz")
    stop = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\nassert ", "\n#", "\n```")
    _env = "HUMANEVAL_OVERRIDE_PATH"
    _loader = "get_human_eval_plus"

    def prompt(self, record: Record) -> str:
        # Without the trailing newline the model starts the body with its own newline and
        # indentation; after it, small models tend to close the function and write prose.
        return record.fields["prompt"].rstrip()

    def candidate(self, record: Record, completion: str) -> str:
        """The prompt continued by the body, or, when the reply rewrites the whole function, both.

        A chat reply usually repeats ``def name(...)`` in a fence; appending it after the
        prompt (whose function already has a docstring body) redefines the function while
        keeping the prompt's imports.
        """
        code = strip_fences(completion)
        entry = re.escape(record.fields["entry_point"])
        if re.search(rf"^def {entry}\s*\(", code, flags=re.MULTILINE):
            return record.fields["prompt"] + "\n" + code
        return self.prompt(record) + ("" if completion.startswith("\n") else "\n") + completion

    def mode(self, record: Record) -> str:
        return "poly_root" if record.fields["entry_point"] == "find_zero" else "exact"


@register
class MbppPlus(_EvalPlus):
    """MBPP+ (378 problems): write a function from a one-line description and one example assert."""

    name = "mbpp+"
    title = "MBPP+"
    source = DataSource(local="mbppplus/MbppPlus-*.jsonl.gz")
    stop = ("\nassert ", "\nprint(", "\nif __name__", '\n"""', "\n#", "\n```")
    _env = "MBPP_OVERRIDE_PATH"
    _loader = "get_mbpp_plus"
    _set_tasks = frozenset(
        {"similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly",
         "larg_nnum", "intersection_array", "find_dissimilar", "Diff"}
    )
    _not_none_tasks = frozenset({"check_str", "text_match_three", "text_starta_endb"})

    def prompt(self, record: Record) -> str:
        return record.fields["prompt"] + "\n"

    def candidate(self, record: Record, completion: str) -> str:
        return strip_fences(completion)

    def reference(self, record: Record) -> str:
        return record.fields["canonical_solution"]
