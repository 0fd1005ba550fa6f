"""azr report on the ledger of a REAL smoke run: the default model, the real sandbox, one step."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from azr.ledger import Ledger
from azr.report.build import build_report
from azr.selfplay.config import load_run_config
from azr.selfplay.trainer import Trainer

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("report-smoke") / "run"
    config = load_run_config(preset="smoke", overrides=["steps=1", "seed=3"])
    Trainer.new(config, run_dir).train()
    return run_dir


def test_report_of_a_real_run_shows_every_proposal_and_the_curves(smoke_run: Path) -> None:
    html = build_report(smoke_run).read_text(encoding="utf-8")
    views = json.loads(re.search(r'<script id="azr-views" type="application/json">(.*?)</script>', html, re.S).group(1))
    with Ledger.open(smoke_run, readonly=True) as ledger:
        proposals = list(ledger.records(kind="proposal"))
        attempts = list(ledger.records(kind="attempt"))
        metrics = list(ledger.records(kind="step_metrics"))
    assert views["meta"]["last_step"] == 1 and len(metrics) == 1
    proposed = [task for task in views["tasks"] if task["phase"] != "seed"]
    assert len(proposed) == len(proposals) > 0
    by_id = {task["id"]: task for task in proposed}
    for record in proposals:
        shown = by_id[record.id]
        assert shown["reasoning"].startswith(record.payload["completion"][:200])
        assert shown["valid"] == record.payload["valid"] and shown["reason"] == record.payload["reason"]
    for name in ("rewards", "valid_rate", "lengths"):
        assert name in views["figures"], name
    valid_types = {t for t in ("deduction", "abduction", "induction") if f"valid_rate/{t}" in metrics[0].payload}
    assert {trace["name"] for trace in views["figures"]["valid_rate"]["data"]} == valid_types
    listed_keys = {task["key"] for task in views["tasks"]}
    assert {a.payload["task_key"] for a in attempts} <= listed_keys, "every attempt sits under a listed task"
    assert sum(len(rows) for rows in views["attempts"].values()) == len(attempts)
    assert ("families" in views["notes"]) == (not any(p.payload["valid"] for p in proposals))


def test_report_of_a_real_run_accounts_for_oversight(smoke_run: Path) -> None:
    html = build_report(smoke_run).read_text(encoding="utf-8")
    views = json.loads(re.search(r'<script id="azr-views" type="application/json">(.*?)</script>', html, re.S).group(1))
    with Ledger.open(smoke_run, readonly=True) as ledger:
        recorded = ledger.counts().get("oversight", 0)
    assert len(views["oversight"]) + views["meta"]["oversight_allowed"] == recorded
    scorecard = smoke_run / "scorecard.md"
    if scorecard.is_file():
        assert views["scorecard"]["markdown"][:200] == scorecard.read_text(encoding="utf-8")[:200]
    else:
        assert "scorecard" in views["notes"]
