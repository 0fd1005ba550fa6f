"""The throttle's windowed rules, the pause file, and the acknowledgement that lifts it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from azr.ledger import Ledger
from azr.oversight import Action, ActionKind, RunPausedError, RunStoppedError
from azr.oversight.config import ThrottleConfig, ThrottleRule
from azr.oversight.decision import Decision, Finding
from azr.oversight.pause import PAUSE_FILE, acknowledge, ensure_may_continue, read_pause, write_pause
from azr.oversight.throttle import ThrottlePolicy

FLAG = Decision.from_findings([Finding("m", "deception", "high", "r")])
ALLOW = Decision()
TRIPWIRE = Decision.from_findings([Finding("tripwire", "tripwire_success", "critical", "r")])


def run_steps(policy: ThrottlePolicy, steps: list[list[Decision]], first: int = 1) -> list[Action]:
    actions = []
    for offset, decisions in enumerate(steps):
        for decision in decisions:
            policy.observe(decision)
        policy.commit(first + offset)
        actions.append(policy.decide(first + offset))
    return actions


def test_quiet_run_continues() -> None:
    actions = run_steps(ThrottlePolicy(ThrottleConfig()), [[ALLOW] * 40] * 5)
    assert all(a == Action.CONTINUE for a in actions)


def test_count_rule_fires_inside_its_window_only() -> None:
    rule = ThrottleRule(signal="kind:deception", window_steps=3, min_count=2, action="pause")
    policy = ThrottlePolicy(ThrottleConfig(rules=[rule]))
    actions = run_steps(policy, [[FLAG], [], [], [FLAG], [FLAG]])
    assert [a.kind for a in actions] == [ActionKind.CONTINUE] * 4 + [ActionKind.PAUSE]
    assert "2 x kind:deception" in actions[-1].reason


def test_rate_rule_needs_enough_events() -> None:
    rule = ThrottleRule(signal="flag", window_steps=2, min_rate=0.5, min_events=10, action="slow", slow_seconds=3)
    policy = ThrottlePolicy(ThrottleConfig(rules=[rule]))
    actions = run_steps(policy, [[FLAG] * 4, [FLAG] * 3 + [ALLOW] * 3, [ALLOW] * 10])
    assert actions[0] == Action.CONTINUE
    assert actions[1] == Action.SLOW(3.0)
    assert actions[2] == Action.CONTINUE


def test_hardest_action_wins_and_defaults_pause_on_a_tripwire() -> None:
    assert run_steps(ThrottlePolicy(ThrottleConfig()), [[TRIPWIRE]])[0] == Action.PAUSE
    assert run_steps(ThrottlePolicy(ThrottleConfig()), [[TRIPWIRE], [TRIPWIRE]])[1] == Action.STOP


def test_disabled_throttle_always_continues() -> None:
    policy = ThrottlePolicy(ThrottleConfig(enabled=False))
    assert run_steps(policy, [[TRIPWIRE] * 5])[0] == Action.CONTINUE


@pytest.mark.parametrize("kwargs", [{"min_count": 1, "min_rate": 0.5}, {}, {"min_count": 1, "slow_seconds": 0}])
def test_rules_need_exactly_one_threshold_and_slow_seconds(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        ThrottleRule(signal="flag", action="slow", **({"slow_seconds": 1.0} | kwargs))


def test_pause_blocks_until_acknowledged_in_the_ledger(tmp_path: Path) -> None:
    write_pause(tmp_path, Action(ActionKind.PAUSE, reason="3 x kind:tripwire_blocked"), step=12)
    with pytest.raises(RunPausedError, match="azr resume"):
        ensure_may_continue(tmp_path)
    with Ledger.open(tmp_path) as ledger:
        with pytest.raises(RunPausedError, match="words"):
            acknowledge(tmp_path, "ok", ledger)
        state = acknowledge(tmp_path, "reviewed the blocked canaries, all were import errors", ledger)
    assert state.step == 12
    ensure_may_continue(tmp_path)
    with Ledger.open(tmp_path, readonly=True) as ledger:
        [record] = list(ledger.records(kind="oversight"))
    assert record.step == 12
    assert record.payload["event"] == "resume_ack"
    assert record.payload["ack"].startswith("reviewed the blocked canaries")
    history = [json.loads(line) for line in (tmp_path / "oversight" / "pauses.jsonl").read_text().splitlines()]
    assert history[0]["reason"] == "3 x kind:tripwire_blocked"


def test_stopped_run_cannot_be_resumed(tmp_path: Path) -> None:
    write_pause(tmp_path, Action(ActionKind.STOP, reason="2 x kind:tripwire_success"), step=30)
    assert read_pause(tmp_path).status == "stopped"
    with pytest.raises(RunStoppedError):
        ensure_may_continue(tmp_path)
    with Ledger.open(tmp_path) as ledger, pytest.raises(RunStoppedError):
        acknowledge(tmp_path, "I really want to go on", ledger)
    assert (tmp_path / PAUSE_FILE).exists()


def test_acknowledging_a_running_run_is_an_error(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger, pytest.raises(RunPausedError, match="not paused"):
        acknowledge(tmp_path, "nothing to see here", ledger)
