"""HumanEval+ and MBPP+: write a function; it must agree with the reference on every test input.

Records come through evalplus's own data loaders, pointed at local files by
``HUMANEVAL_OVERRIDE_PATH`` / ``MBPP_OVERRIDE_PATH`` (without a data directory evalplus
downloads its release itself). Judging is evalplus's differential testing, with the
verdict taken out of the candidate's reach: the reference solution and each candidate run
in separate sandboxed processes that only return their outputs on the base and plus
inputs, and the host reads those as plain literals and compares them. A candidate's
process holds neither the judge nor the expected values, so writing its own result frame,
patching frames or returning an object whose ``__eq__`` always answers True can only
change its own outputs, and an output that is not a literal is wrong.

The comparison follows evalplus (exact equality, floats within ``atol`` or 1e-6, set
equality or "not None" for the MBPP tasks evalplus lists) except that it is type-strict
(:func:`azr.tasks.literals.values_equal`): ``3.0`` for ``3`` or ``1`` for ``True`` is
wrong here, where evalplus's ``==`` forgives it. Its hand-written oracle for HumanEval/32
(a polynomial root) is reproduced, those for Mbpp/164, 295, 558 and 581 are not, so on
those four a correct answer that differs from the reference in the way evalplus forgives
counts wrong.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from azr.eval.benchmarks.base import Benchmark, Judgement, Record, failure_reason, read_literal, register
from azr.eval.data import DataSource, find_local
from azr.eval.errors import EvalError, MissingDataError
from azr.executor.types import ExecResult, Snippet, SnippetRunner
from azr.tasks.literals import LiteralError, values_equal

_TIMEOUT_S = 60.0

# Runs inside the sandbox, for one program (the reference or one candidate, never both in
# one process) on a slice of a record's inputs. It only computes: it returns one text per
# input, which the host reads as a literal and compares. The program gets its own
# namespace so it cannot shadow the harness by accident, and every call a fresh deep copy
# of its arguments because some programs mutate them. The MBPP tasks evalplus compares as
# sets or by "not None" have their outputs reduced to that here, since a match object,
# which some references return, has no literal.
#
# Each output is written canonically (set elements and dict items sorted, subclasses of the
# built-in types written as their base, ints too long for decimal text as hex) and, when
# that text is longer than _LONG, sent as "#" + its SHA-256 instead: some references return
# a 12 MB list, too much to carry and parse, and two programs' long outputs are then
# compared exactly, by digest. Anything else (a class of the program's own) is an error.
# Values made only of lists, tuples and exact leaf types are written by repr itself, which
# is canonical for them and far faster: one MBPP+ reference returns 1.3 GB of tuples.
_HARNESS = '''
import copy as _copy
import hashlib as _hashlib
inf = float("inf")
nan = float("nan")
_PROGRAM = {program!r}
_ENTRY = {entry!r}
_MODE = {mode!r}
_LONG = {long}
_INPUTS = {inputs}


def _reduced(value):
    if _MODE == "set":
        return set(value)
    if _MODE == "not_none":
        return value if isinstance(value, bool) else value is not None
    return value


_LEAVES = frozenset((type(None), bool, float, complex, str, bytes))


def _plain(value):
    kind = type(value)
    if kind in _LEAVES:
        return True
    if kind is int:
        return value.bit_length() < 13000
    return (kind is list or kind is tuple) and all(map(_plain, value))


def _text(value):
    if _plain(value):
        return repr(value)
    if value is None or type(value) is bool:
        return repr(value)
    if isinstance(value, int):
        return int.__repr__(value) if value.bit_length() < 13000 else hex(value)
    for base in (float, complex, str, bytes):
        if isinstance(value, base):
            return base.__repr__(value)
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_text(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, (set, frozenset)):
        return "{{" + ", ".join(sorted(_text(v) for v in value)) + "}}" if value else "set()"
    if isinstance(value, dict):
        return "{{" + ", ".join(sorted(_text(k) + ": " + _text(v) for k, v in value.items())) + "}}"
    raise TypeError("an output of type " + type(value).__name__ + " is not a plain literal")


def _sent(value):
    text = _text(_reduced(value))
    if len(text) <= _LONG:
        return text
    return "#" + _hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _run():
    namespace = {{}}
    exec(_PROGRAM, namespace)
    function = namespace.get(_ENTRY)
    if not callable(function):
        raise LookupError("no function named " + _ENTRY)
    return [_sent(function(*_copy.deepcopy(args))) for args in _INPUTS]
'''

# Outputs up to this many characters of literal text are sent as text and compared as
# values (with evalplus's float tolerance); a quarter of the executor's default 64 KiB
# value limit, so that one input's text always fits even after repr escapes it.
_LONG_OUTPUT = 16384


@dataclass(frozen=True)
class _Digest:
    """A long output, known only by the SHA-256 of its canonical text: equal only to the same digest."""

    sha256: str


@dataclass
class _Outputs:
    """One program's outputs on one record's inputs, gathered slice by slice, or why they are missing.

    A slice whose outputs' repr is longer than the executor returns is halved and run
    again, at most ``splits`` times deep: the reference as often as it takes (it is the
    dataset's code), a candidate once, on the slices its reference needed.
    """

    record: Record
    program: str
    slices: list[tuple[int, int]]
    splits: int
    parts: dict[int, list[Any]] = field(default_factory=dict)
    failure: str = ""

    def values(self) -> list[Any]:
        return [value for start in sorted(self.parts) for value in self.parts[start]]

    def done_slices(self) -> list[tuple[int, int]]:
        return [(start, start + len(self.parts[start])) for start in sorted(self.parts)]


def _inputs(record: Record) -> list[Any]:
    return [*record.fields["base_input"], *record.fields["plus_input"]]


def _close(want: Any, got: Any, atol: float) -> bool:
    """evalplus's ``np.allclose`` step, type-strict: a float only against a float, a list or
    tuple only against one of the same type and length, element by element."""
    if type(want) is float and type(got) is float:
        if math.isnan(want) or math.isnan(got):
            return math.isnan(want) and math.isnan(got)
        return abs(want - got) <= atol + 1e-7 * abs(want)
    if type(want) in (list, tuple) and type(got) is type(want) and len(want) == len(got):
        return all(values_equal(w, g) or _close(w, g, atol) for w, g in zip(want, got))
    return False


def _agrees(want: Any, got: Any, atol: float) -> bool:
    if isinstance(want, _Digest) or isinstance(got, _Digest):
        return want == got
    return values_equal(want, got) or _close(want, got, atol)


def _is_root(coefficients: Sequence[Any], x: Any, atol: float) -> bool:
    """evalplus's oracle for HumanEval/32: any x where the polynomial is within ``atol`` of 0."""
    if type(x) not in (int, float):
        return False
    try:
        return abs(sum(c * math.pow(x, i) for i, c in enumerate(coefficients))) <= atol
    except (OverflowError, ValueError, TypeError):
        return False


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

    def snippet(self, record: Record, program: str, start: int, stop: int) -> Snippet:
        """The sandboxed run of ``program`` on inputs ``start:stop`` of ``record``; it returns only outputs."""
        code = _HARNESS.format(
            program=program,
            entry=record.fields["entry_point"],
            mode=self.mode(record),
            long=_LONG_OUTPUT,
            inputs="[" + ", ".join(_literal(args) for args in _inputs(record)[start:stop]) + "]",
        )
        return Snippet(code=code, call="_run()", timeout_s=_TIMEOUT_S)

    def judge(self, records: Sequence[Record], completions: Sequence[str], runner: SnippetRunner) -> list[Judgement]:
        """Reference outputs first (once per record), then each candidate's in its own process; compare on the host."""
        references = {id(r): _Outputs(r, self.reference(r), [(0, len(_inputs(r)))], len(_inputs(r)).bit_length())
                      for r in records}
        self._gather(list(references.values()), runner)
        candidates = [
            _Outputs(record, self.candidate(record, completion), references[id(record)].done_slices(), 1)
            for record, completion in zip(records, completions)
        ]
        self._gather([c for c, r in zip(candidates, records) if not references[id(r)].failure], runner)
        return [self._verdict(references[id(c.record)], c, completion) for c, completion in zip(candidates, completions)]

    def _gather(self, jobs: Sequence[_Outputs], runner: SnippetRunner) -> None:
        """Run every job's slices in one batch, then the halves of any slice whose outputs were too long."""
        pending = [(job, start, stop, job.splits) for job in jobs for start, stop in job.slices]
        while pending:
            results = runner.run_batch([self.snippet(job.record, job.program, start, stop) for job, start, stop, _ in pending])
            again = []
            for (job, start, stop, splits), result in zip(pending, results, strict=True):
                if job.failure:
                    continue
                if result.error_type == "ReprTooLong" and stop - start > 1 and splits > 0:
                    middle = (start + stop) // 2
                    again += [(job, start, middle, splits - 1), (job, middle, stop, splits - 1)]
                    continue
                job.failure = self._read(job, start, stop, result)
            pending = again

    @staticmethod
    def _read(job: _Outputs, start: int, stop: int, result: ExecResult) -> str:
        """Store one slice's outputs in ``job``; return why they cannot be used, or ''."""
        if not result.ok:
            return failure_reason(result)
        try:
            texts = read_literal(result.value_repr or "")
            if type(texts) is not list or len(texts) != stop - start or any(type(t) is not str for t in texts):
                return f"the program did not return one output text for each of {stop - start} inputs"
            job.parts[start] = [_Digest(t[1:]) if t.startswith("#") else read_literal(t) for t in texts]
        except LiteralError:
            return "an output is not a plain literal"
        return ""

    def _verdict(self, reference: _Outputs, candidate: _Outputs, completion: str) -> Judgement:
        if reference.failure:
            return Judgement(False, completion, f"the reference solution failed: {reference.failure}")
        if candidate.failure:
            return Judgement(False, completion, candidate.failure)
        record = candidate.record
        atol = float(record.fields["atol"])
        roots = self.mode(record) == "poly_root"
        for args, want, got in zip(_inputs(record), reference.values(), candidate.values(), strict=True):
            agrees = _is_root(args[0], got, atol) if roots else _agrees(want, got, atol or 1e-6)
            if not agrees:
                return Judgement(False, completion, "wrong result on input " + repr(args)[:120])
        return Judgement(True, completion)


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
