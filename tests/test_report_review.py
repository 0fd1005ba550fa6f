"""The review queue on the live dashboard, in Debian's chromium via Playwright, then ingested by the loop.

The run is the synthetic one of the dashboard test plus one step of ``review_item``
records written through the loop's own :class:`ReviewQueue`; the decisions a person makes
in the browser are read back by the same queue, as the loop reads them at a step start.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from report_synthetic import SyntheticRun, write_synthetic_run
from test_report_dashboard import _watch_errors, browser  # noqa: F401 - the fixture, shared

from azr.buffers import BufferSet
from azr.ledger import Ledger
from azr.oversight.review import (
    DECISION_KIND,
    ReviewConfig,
    ReviewQueue,
    inbox_path,
    read_inbox,
)
from azr.report.dashboard import Dashboard
from azr.tasks.triplet import IOPair, Task

HOSTILE = "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>"


def _task(k: int) -> Task:
    return Task("deduction", f"def f(x):\n    return x * {k}", (IOPair(input="3", output=str(3 * k)),))


def _item(task: Task, reasoning: str, why: list[str]) -> dict[str, Any]:
    return {"role": "propose", "task_type": task.task_type, "task_key": task.key(), "program": task.program,
            "inputs": [p.input for p in task.pairs], "outputs": [p.output for p in task.pairs], "message": "",
            "valid": True, "verdict_reason": "valid", "answer": None, "correct": None, "reasoning": reasoning,
            "why": why}


@pytest.fixture
def review_run(tmp_path: Path) -> tuple[Path, list[str], BufferSet[Task]]:
    """A synthetic run whose step 3 queued three tasks, all three in the buffers."""
    run_dir = write_synthetic_run(tmp_path / "run", SyntheticRun(steps=2))
    buffers: BufferSet[Task] = BufferSet({"deduction": 16, "abduction": 16, "induction": 16})
    with Ledger.open(run_dir) as ledger:
        queue = ReviewQueue.from_ledger(ReviewConfig(), ledger, run_dir)
        ids = []
        for k, (reasoning, why) in enumerate([(HOSTILE, ["flag (reasoning_auditor): mentions the grader"]),
                                              ("Multiply by two.", ["sample"]), ("Multiply by three.", ["sample"])]):
            buffers.add(_task(k + 1), {"step": 3})
            ids.append(queue.add(3, _item(_task(k + 1), reasoning, why)))
        with ledger.step(3) as tx:
            for kind, payload in queue.drain_records():
                tx.append(kind, payload)
    return run_dir, ids, buffers


def test_a_reviewer_vetoes_and_approves_in_the_browser_and_the_loop_records_it(
    browser: Any, review_run: tuple[Path, list[str], BufferSet[Task]],  # noqa: F811 - the shared fixture
) -> None:
    run_dir, ids, buffers = review_run
    with Dashboard(run_dir, port=0, poll_s=0.3) as live:
        page = browser.new_page()
        errors = _watch_errors(page)
        page.goto(live.url)
        page.wait_for_selector("#review[data-review-ready]", timeout=30_000)
        assert page.locator("#review .review-item").count() == 3
        hostile = page.locator(f'.review-item[data-item-id="{ids[0]}"]')
        hostile.locator("summary").click()
        assert HOSTILE in hostile.locator("details pre").inner_text(), "model text must show as text"
        assert page.locator("#review-list img, #review-list script").count() == 0
        assert page.evaluate("window.__pwned") is None

        vetoed = page.locator(f'.review-item[data-item-id="{ids[0]}"]')
        vetoed.locator("button.review-veto").click()
        assert "enter your name" in vetoed.locator(".review-status").inner_text()
        page.fill("#review-name", "Grace Hopper")
        vetoed.locator("textarea.review-reason").fill("the reasoning is about gaming the grader")
        vetoed.locator("button.review-veto").click()
        approved = page.locator(f'.review-item[data-item-id="{ids[1]}"]')
        approved.locator("textarea.review-reason").fill("a plain, honest arithmetic task")
        approved.locator("button.review-approve").click()
        for box in (vetoed, approved):
            page.wait_for_function("(el) => el.textContent.includes('waiting for the training loop')",
                                   arg=box.locator(".review-status").element_handle(), timeout=10_000)
        assert page.locator(f'.review-item[data-item-id="{ids[2]}"] button.review-veto').is_enabled()

        lines = read_inbox(run_dir)
        assert [(x.decision.item_id, x.decision.decision, x.decision.reviewer, x.decision.reason) for x in lines] == [
            (ids[0], "veto", "Grace Hopper", "the reasoning is about gaming the grader"),
            (ids[1], "approve", "Grace Hopper", "a plain, honest arithmetic task"),
        ]

        with Ledger.open(run_dir) as ledger:
            queue = ReviewQueue.from_ledger(ReviewConfig(), ledger, run_dir)
            assert queue.ingest(buffers) == 2
            with ledger.step(4) as tx:
                for kind, payload in queue.drain_records():
                    tx.append(kind, payload)
            decisions = [r.payload for r in ledger.records(kind=DECISION_KIND)]
            assert ledger.verify().ok
        assert [(d["item_id"], d["decision"], d["reviewer"], d["status"]) for d in decisions] == [
            (ids[0], "veto", "Grace Hopper", "accepted"), (ids[1], "approve", "Grace Hopper", "accepted")]
        assert decisions[0]["reason"] == "the reasoning is about gaming the grader" and decisions[0]["decided_at"]
        assert _task(1).key() not in buffers.buffer("deduction"), "the vetoed task must leave the buffers"
        assert _task(2).key() in buffers.buffer("deduction") and not buffers.add(_task(1), {"step": 5})

        # Once recorded in the ledger, decided items leave the page; the undecided one stays.
        page.wait_for_function("document.querySelectorAll('#review .review-item').length === 1", timeout=10_000)
        assert "1 pending · 0 awaiting the ledger · 2 decided (1 vetoed)" in page.inner_text("#review-counts")
        assert errors == [], errors
        page.close()


def _post(url: str, body: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_server_refuses_foreign_origins_and_bad_decisions(review_run: tuple[Path, list[str], Any]) -> None:
    run_dir, ids, _ = review_run
    with Dashboard(run_dir, port=0) as live:
        url = live.url + "review/decision"
        origin = live.url.rstrip("/")
        own = {"Content-Type": "application/json", "Origin": origin}
        good = {"item_id": ids[0], "decision": "veto", "reason": "reads the grader", "reviewer": "Ada"}
        for headers, why in [({"Content-Type": "application/json"}, "Origin ''"),
                             ({**own, "Origin": "http://evil.example"}, "Origin 'http://evil.example'"),
                             ({**own, "Host": "evil.example:80"}, "Host 'evil.example:80'")]:
            status, body = _post(url, good, headers)
            assert status == 403 and why in body["error"], body
        for change, why in [({"reviewer": " "}, "'reviewer' must be a non-empty string"),
                            ({"reason": ""}, "'reason' must be a non-empty string"),
                            ({"decision": "delete"}, "'decision' must be one of approve, veto"),
                            ({"item_id": "99.1"}, "no review item '99.1'")]:
            status, body = _post(url, {**good, **change}, own)
            assert status == 400 and why in body["error"], body
        assert _post(url, b"{not json", own)[0] == 400
        assert _post(url, good, {**own, "Content-Type": "text/plain"})[0] == 400
        assert not inbox_path(run_dir).exists(), "nothing refused may reach the inbox"

        status, body = _post(url, good, own)
        assert status == 200 and body["decision"]["reviewer"] == "Ada"
        status, body = _post(url, {**good, "decision": "approve"}, own)
        assert status == 409 and "already decided (veto by Ada)" in body["error"]
        assert len(read_inbox(run_dir)) == 1
        with urllib.request.urlopen(live.url + "review.json", timeout=10) as response:
            state = json.loads(response.read())
        assert state["counts"] == {"items": 3, "pending": 3, "awaiting_ledger": 1, "decided": 0, "vetoed": 0,
                                   "shown": 3}
        assert state["items"][0]["inbox"]["decision"] == "veto"
    with Ledger.open(run_dir, readonly=True) as ledger:
        assert ledger.verify().ok and ledger.counts().get(DECISION_KIND) is None, "the dashboard never writes the ledger"
