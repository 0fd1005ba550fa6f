"""What an evaluation produced: per-benchmark scores, their JSON file, and the terminal tables."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from azr.eval.errors import EvalError


def now_utc() -> str:
    """The timestamp format of result files and ledger rows."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class BenchResult:
    """One benchmark's scores. ``pass_at`` maps k to the mean unbiased pass@k over items.

    ``seconds`` is generation plus judging time of all its items, cached ones included
    (items cached by older versions count 0); ``computed`` is how many this run did.
    """

    name: str
    title: str
    n_items: int
    samples: int
    pass_at: dict[int, float]
    seconds: float
    computed: int
    limit: int | None = None
    sampling: dict[str, Any] = field(default_factory=dict)

    @property
    def pass1(self) -> float:
        return self.pass_at[1]


@dataclass
class EvalReport:
    """A whole run of ``azr eval``: which model, when, and one result per benchmark."""

    model: str
    created: str
    benches: dict[str, BenchResult]
    step: int | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for bench in data["benches"].values():
            bench["pass_at"] = {str(k): v for k, v in bench["pass_at"].items()}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "EvalReport":
        benches = {}
        for name, raw in data["benches"].items():
            raw = dict(raw)
            raw["pass_at"] = {int(k): float(v) for k, v in raw["pass_at"].items()}
            benches[name] = BenchResult(**raw)
        return cls(model=data["model"], created=data["created"], benches=benches, step=data.get("step"))

    def merged_into(self, older: "EvalReport | None") -> "EvalReport":
        """This report plus the benchmarks an older report of the same model had and this one did not run."""
        if older is None or older.model != self.model:
            return self
        return EvalReport(self.model, self.created, {**older.benches, **self.benches}, self.step)


def save_report(report: EvalReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    tmp.replace(path)


def load_report(path: Path) -> EvalReport:
    try:
        return EvalReport.from_json(json.loads(Path(path).read_text()))
    except OSError as exc:
        raise EvalError(f"cannot read result file {path}: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise EvalError(f"{path} is not an `azr eval` result file ({type(exc).__name__}: {exc})") from exc


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}"


def report_table(report: EvalReport) -> Table:
    """One row per benchmark: items, samples, pass@k columns in percent, time."""
    ks = sorted({k for bench in report.benches.values() for k in bench.pass_at})
    title = f"azr eval — {report.model}" + (f" (step {report.step})" if report.step is not None else "")
    table = Table(title=title)
    table.add_column("benchmark")
    table.add_column("items", justify="right")
    table.add_column("samples", justify="right")
    for k in ks:
        table.add_column(f"pass@{k} %", justify="right")
    table.add_column("time s", justify="right")
    for bench in report.benches.values():
        cells = [_pct(bench.pass_at.get(k)) for k in ks]
        table.add_row(bench.title, str(bench.n_items), str(bench.samples), *cells, f"{bench.seconds:.0f}")
    return table


def compare_table(a: EvalReport, b: EvalReport, label_a: str, label_b: str) -> Table:
    """pass@1 of two reports side by side, with B - A in points; benchmarks either lacks show a dash."""
    table = Table(title=f"A: {label_a}   B: {label_b}")
    table.add_column("benchmark")
    table.add_column("A pass@1 %", justify="right")
    table.add_column("B pass@1 %", justify="right")
    table.add_column("B - A", justify="right")
    table.add_column("items A/B", justify="right")
    for name in [*a.benches, *(n for n in b.benches if n not in a.benches)]:
        ra, rb = a.benches.get(name), b.benches.get(name)
        pa = ra.pass1 if ra else None
        pb = rb.pass1 if rb else None
        if pa is not None and pb is not None:
            delta = 100 * (pb - pa)
            style = "green" if delta > 0 else "red" if delta < 0 else ""
            diff = f"[{style}]{delta:+.1f}[/]" if style else f"{delta:+.1f}"
        else:
            diff = "—"
        items = f"{ra.n_items if ra else '—'}/{rb.n_items if rb else '—'}"
        table.add_row((ra or rb).title, _pct(pa), _pct(pb), diff, items)  # type: ignore[union-attr]
    return table
