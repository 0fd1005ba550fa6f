"""azr report: the HTML built from a ledger written by the SYNTHETIC writer (no model)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from report_synthetic import (
    LATE_MARKERS,
    NEEDLE_INPUT,
    NEEDLE_OUTPUT,
    NEEDLE_PROGRAM,
    SyntheticRun,
    write_synthetic_run,
)

from azr.ledger import Ledger
from azr.report.build import build_report
from azr.report.config import ReportConfig
from azr.report.families import task_families
from azr.report.snapshot import LedgerFollower, ProposalRow, read_snapshot
from azr.report.tables import cut
from azr.report.views import build_views


def _views(html: str) -> dict:
    match = re.search(r'<script id="azr-views" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the report must embed its views"
    return json.loads(match.group(1), parse_constant=lambda name: pytest.fail(f"bare {name} in the views JSON"))


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("full") / "run"
    return write_synthetic_run(run_dir, SyntheticRun(steps=16, oversight=True, evals=True, scorecard=True))


@pytest.fixture(scope="module")
def full_report(full_run: Path) -> tuple[str, dict]:
    html = build_report(full_run).read_text(encoding="utf-8")
    return html, _views(html)


def test_report_is_self_contained_and_offline(full_report: tuple[str, dict]) -> None:
    html, _ = full_report
    assert "plotly.js v" in html, "Plotly.js must be inlined"
    assert len(html) > 3_000_000, "the inlined Plotly bundle alone is several MB"
    assert not re.search(r"<script[^>]+src=", html), "no external scripts: the file must open offline"
    assert "<link" not in html, "no external stylesheets"


def test_report_has_every_section_when_the_ledger_has_the_kinds(full_run: Path, full_report: tuple[str, dict]) -> None:
    _, views = full_report
    for name in ("rewards", "reward_terms", "reasoning", "valid_rate", "solve_rate", "malformed", "lengths",
                 "difficulty", "family_map", "family_shares", "eval", "oversight"):
        assert name in views["figures"], f"figure {name} is missing"
    assert views["notes"] == {}, "no section should carry an 'empty' note"
    rewards = {trace["name"] for trace in views["figures"]["rewards"]["data"]}
    assert rewards == {f"{t} · {r}" for t in ("abduction", "deduction", "induction") for r in ("propose", "solve")}
    terms = {trace["name"] for trace in views["figures"]["reward_terms"]["data"]}
    assert terms == {f"{t} · propose · learnability" for t in ("abduction", "deduction", "induction")}
    reasoning = views["figures"]["reasoning"]["data"]
    assert {trace["name"]: trace["y"][0] for trace in reasoning} == {"abduction · propose": 90.0,
                                                                    "deduction · propose": 90.0,
                                                                    "induction · propose": 90.0}
    malformed = {trace["name"] for trace in views["figures"]["malformed"]["data"]}
    assert malformed == rewards, "one malformed-reply curve per (task type, role)"
    steps = views["figures"]["rewards"]["data"][0]["x"]
    assert steps == list(range(1, 17))
    assert views["meta"]["last_step"] == 16
    with Ledger.open(full_run, readonly=True) as ledger:
        counts = ledger.counts()
    assert len(views["tasks"]) == counts["proposal"]
    assert views["meta"]["counts"] == counts
    assert views["scorecard"]["markdown"].startswith("# Scorecard at step 16")
    vetoes = [row for row in views["oversight"] if row["verdict"] == "veto"]
    assert [row["step"] for row in vetoes] == [16, 8] and vetoes[0]["detail"] == "os.environ"
    assert views["meta"]["oversight_allowed"] == 16, "plain allows are counted, not listed"
    evals = views["figures"]["eval"]["data"]
    assert [trace["name"] for trace in evals] == ["cruxeval-o pass@1 · in-training"]
    assert evals[0]["x"] == [5, 10, 15] and evals[0]["y"] == pytest.approx([0.15, 0.2, 0.25])


def test_task_table_holds_the_known_task_with_its_attempts(full_report: tuple[str, dict]) -> None:
    _, views = full_report
    needles = [task for task in views["tasks"] if task["program"] == NEEDLE_PROGRAM]
    assert len(needles) == 1
    needle = needles[0]
    assert needle["step"] == 1 and needle["valid"]
    assert needle["inputs"] == [NEEDLE_INPUT] and needle["outputs"] == [NEEDLE_OUTPUT]
    assert "<think>" in needle["reasoning"], "the proposer's full completion is the reasoning shown"
    attempts = views["attempts"][needle["key"]]
    assert {a["purpose"] for a in attempts} >= {"learnability"}
    assert all(a["answer"] == NEEDLE_OUTPUT for a in attempts if a["correct"])


def test_emerging_families_rank_first(full_report: tuple[str, dict]) -> None:
    _, views = full_report
    families = views["families"]
    assert len(families) >= 3
    top = families[0]
    assert any(marker in top["example_program"] for marker in LATE_MARKERS), top
    assert top["growth"] > 0 and top["first_step"] > 1
    assert families[-1]["growth"] < 0, "an early family loses share as the late ones appear"
    assert sum(f["size"] for f in families) == len([t for t in views["tasks"] if t["valid"]])


def test_missing_eval_and_oversight_leave_notes(tmp_path: Path) -> None:
    run_dir = write_synthetic_run(tmp_path / "run", SyntheticRun(steps=4))
    views = _views(build_report(run_dir, tmp_path / "out" / "r.html").read_text(encoding="utf-8"))
    assert set(views["notes"]) == {"eval", "oversight", "scorecard"}
    assert "eval" not in views["figures"] and "oversight" not in views["figures"]
    assert "azr eval" in views["notes"]["eval"]


def test_an_empty_run_builds_with_notes(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger:
        ledger.append("run_start", {"config": {}})
    views = _views(build_report(tmp_path).read_text(encoding="utf-8"))
    assert views["figures"] == {} and views["tasks"] == []
    assert {"curves", "difficulty", "families"} <= set(views["notes"])


def test_model_text_cannot_break_out_of_the_page(tmp_path: Path) -> None:
    run_dir = write_synthetic_run(tmp_path / "run", SyntheticRun(steps=2))
    evil = "def f(a):\n    return '</script><script>alert(1)</script><!--'"
    with Ledger.open(run_dir) as ledger, ledger.step(3) as tx:
        tx.append("proposal", {"phase": "train", "task_type": "deduction", "program": evil, "inputs": ["1"],
                               "valid": False, "reason": "bad", "completion": evil, "completion_tokens": 9})
    html = build_report(run_dir).read_text(encoding="utf-8")
    assert "alert(1)</script>" not in html and "<script>alert" not in html
    assert any(task["program"] == evil for task in _views(html)["tasks"]), "the text is kept, escaped"


def test_follower_reads_only_new_records_and_matches_a_fresh_read(tmp_path: Path) -> None:
    run_dir = write_synthetic_run(tmp_path / "run", SyntheticRun(steps=3))
    follower = LedgerFollower(run_dir)
    first = follower.poll()
    assert first > 0 and follower.poll() == 0
    with Ledger.open(run_dir) as ledger, ledger.step(4) as tx:
        tx.append("step_metrics", {"reward/deduction/solve": 0.5})
    assert follower.poll() == 2, "one metrics record and the step's closing record"
    fresh = read_snapshot(run_dir)
    assert follower.snapshot.metrics == fresh.metrics and len(follower.snapshot.proposals) == len(fresh.proposals)


def test_rewound_steps_keep_their_records_and_are_named(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger:
        with ledger.step(1) as tx:
            tx.append("step_metrics", {"reward/deduction/solve": 0.1})
        ledger.append("rewind", {"checkpoint_step": 0, "discarded_steps": [1]})
        with ledger.step(2) as tx:
            tx.append("step_metrics", {"reward/deduction/solve": 0.2})
    snap = read_snapshot(tmp_path)
    assert snap.metrics == {1: {"reward/deduction/solve": 0.1}, 2: {"reward/deduction/solve": 0.2}}
    assert snap.rewound_steps == {1}


def test_non_finite_metrics_are_dropped_not_written_as_nan(full_run: Path) -> None:
    snap = read_snapshot(full_run)
    assert all("update/loss" not in values for values in snap.metrics.values())


def test_families_separate_two_shapes_and_rank_the_newer_first() -> None:
    def row(step: int, program: str) -> ProposalRow:
        return ProposalRow(id=step, step=step, phase="train", task_type="deduction", valid=True, reason="ok",
                           program=program, inputs=["1"], outputs=["1"], message="", completion="",
                           completion_tokens=1, solve_rate=0.5, reward=0.5, task_key=str(step))

    loops = "def f(xs):\n    t = 0\n    for x in xs:\n        if x > {k}:\n            t += x\n    return t"
    rows = [row(s, "def f(a):\n    return a * {k}".format(k=s % 5 + 1)) for s in range(40)]
    rows += [row(s, loops.format(k=s)) for s in range(30, 40)]
    fmap = task_families(rows, "ast", max_families=2, map_points=100)
    assert len(fmap.families) == 2
    assert "for x in xs" in fmap.families[0].example.program
    assert fmap.families[0].first_step == 30 and fmap.families[0].size == 10
    assert len(fmap.x) == 50


def test_cut_says_where_the_rest_is() -> None:
    assert cut("abc", 5) == "abc"
    cut_text = cut("x" * 50, 10)
    assert cut_text.startswith("x" * 10) and "40 more characters" in cut_text and "azr ledger export" in cut_text


def test_report_config_rejects_unknown_embedders() -> None:
    with pytest.raises(ValueError):
        ReportConfig(embedder="word2vec")


def test_cli_report_writes_the_file_and_names_a_missing_ledger(full_run: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from azr.cli.main import app
    from azr.ledger import LedgerError

    out = tmp_path / "cli.html"
    result = CliRunner().invoke(app, ["report", str(full_run), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert str(out) in result.stdout and _views(out.read_text(encoding="utf-8"))["meta"]["last_step"] == 16
    missing = CliRunner().invoke(app, ["report", str(tmp_path / "nowhere")])
    assert missing.exit_code != 0 and isinstance(missing.exception, LedgerError)
    assert "no ledger" in str(missing.exception)


def test_task_table_is_capped_with_a_note(full_run: Path) -> None:
    snap = read_snapshot(full_run)
    views = build_views(snap, ReportConfig(max_tasks=5))
    assert [task["id"] for task in views["tasks"]] == [row.id for row in reversed(snap.proposals[-5:])]
    assert set(views["attempts"]) <= {task["key"] for task in views["tasks"]}
    assert "azr ledger export" in views["notes"]["tasks"]


def test_attempts_on_seed_tasks_get_the_seed_program() -> None:
    from azr.report.snapshot import AttemptRow
    from azr.report.tables import unproposed_task_rows
    from azr.tasks.registry import get_task_type
    from azr.tasks.triplet import SEED_TASK

    seed = get_task_type("deduction").seed_tasks(SEED_TASK)[0]

    def attempt(key: str, step: int) -> AttemptRow:
        return AttemptRow(id=step, step=step, purpose="train", task_type="deduction", task_key=key, answer="1",
                          correct=False, malformed=False, reason="wrong", reward=-0.5, completion="", completion_tokens=1)

    rows = unproposed_task_rows([attempt(seed.key(), 1), attempt(seed.key(), 2), attempt("f00", 3), attempt("p1", 4)],
                                proposed={"p1"}, limit=100)
    assert [(row["key"], row["step"]) for row in rows] == [(seed.key(), 0), ("f00", 3)]
    assert rows[0]["program"] == seed.program and rows[0]["outputs"] == ["'Hello world'"]
    assert "not recorded" in rows[1]["program"]
    assert len({row["id"] for row in rows}) == 2 and all(row["id"] < 0 for row in rows)
