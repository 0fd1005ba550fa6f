"""Run totals from hand-made per-step metric rows, as the loop records them."""

from __future__ import annotations

import json
from pathlib import Path

from azr.selfplay.run_totals import read_step_rows, run_totals

TYPES = ["deduction", "abduction", "induction"]
ROWS = [
    # step 1: induction had no base program yet, so it was neither proposed nor solved
    {"step": 1, "valid_rate/deduction": 0.5, "solve_rate/deduction": 0.25,
     "valid_rate/abduction": 1.0, "solve_rate/abduction": 0.0,
     "time/step": 70.0, "time/generate": 40.0, "time/execute": 2.0, "time/update": 25.0},
    # step 2: induction proposed, none valid, so there was nothing for its solver
    {"step": 2, "valid_rate/deduction": 0.75, "solve_rate/deduction": 1.0,
     "valid_rate/abduction": 0.25, "solve_rate/abduction": 0.5, "valid_rate/induction": 0.0,
     "time/step": 80.0, "time/generate": 44.0, "time/execute": 3.0, "time/update": 30.0},
]


def _by_type(rows: list[dict]) -> dict:
    totals = run_totals(rows, TYPES, proposals_per_type=4, solves_per_type=4)
    return {t.task_type: t for t in totals.types}


def test_counts_are_rebuilt_from_rates_and_the_step_sizes() -> None:
    types = _by_type(ROWS)
    assert (types["deduction"].proposed, types["deduction"].valid) == (8, 5)
    assert (types["deduction"].attempts, types["deduction"].solved) == (8, 5)
    assert (types["abduction"].proposed, types["abduction"].valid) == (8, 5)
    assert (types["abduction"].attempts, types["abduction"].solved) == (8, 2)
    assert (types["induction"].proposed, types["induction"].valid, types["induction"].attempts) == (4, 0, 0)
    assert types["deduction"].valid_fraction == 5 / 8 and types["abduction"].accuracy == 2 / 8
    assert types["induction"].valid_fraction == 0.0 and types["induction"].accuracy is None


def test_recorded_counts_win_over_rates() -> None:
    # 3 of 7 proposals kept (a prompt dropped for length): rebuilt from the rate with 4 per type it would read 2 of 4
    row = {"step": 3, "count/proposed/deduction": 7.0, "count/valid/deduction": 3.0, "valid_rate/deduction": 3 / 7,
           "count/attempts/deduction": 4.0, "count/solved/deduction": 1.0, "solve_rate/deduction": 0.25}
    types = _by_type([row])
    assert (types["deduction"].proposed, types["deduction"].valid) == (7, 3)
    assert (types["deduction"].attempts, types["deduction"].solved) == (4, 1)


def test_steps_time_and_the_sum_over_types() -> None:
    totals = run_totals(ROWS, TYPES, proposals_per_type=4, solves_per_type=4)
    assert (totals.steps, totals.first_step, totals.last_step) == (2, 1, 2)
    assert totals.step_seconds == 150.0 and totals.seconds_per_step == 75.0
    assert totals.phase_seconds == {"generate": 84.0, "execute": 5.0, "update": 55.0}
    overall = totals.overall
    assert (overall.proposed, overall.valid, overall.attempts, overall.solved) == (20, 10, 16, 7)


def test_a_run_without_steps_has_empty_totals() -> None:
    totals = run_totals([], TYPES, proposals_per_type=4, solves_per_type=4)
    assert (totals.steps, totals.first_step, totals.seconds_per_step) == (0, None, None)
    assert all(t.proposed == 0 and t.valid_fraction is None and t.accuracy is None for t in totals.types)


def test_metric_rows_are_read_one_per_step_in_order(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    lines = [json.dumps({"step": 2, "time/step": 1.0}), json.dumps({"step": 1, "time/step": 5.0}),
             json.dumps({"step": 2, "time/step": 3.0}), '{"step": 3, "time/st']  # the last line was cut by a kill
    path.write_text("\n".join(lines))
    rows = read_step_rows(path)
    assert [(row["step"], row["time/step"]) for row in rows] == [(1, 5.0), (2, 3.0)]
    assert read_step_rows(tmp_path / "missing.jsonl") == []
