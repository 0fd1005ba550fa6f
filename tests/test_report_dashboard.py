"""azr dashboard (and the static report) in a real headless browser: Debian's chromium via Playwright.

The ledgers here come from the SYNTHETIC writer (no model). The browser is installed by
`make setup`; without it these tests fail and say how to install it, since CI must run them.
"""

from __future__ import annotations

import io
import json
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from PIL import Image
from report_synthetic import NEEDLE_OUTPUT, SyntheticRun, extend_synthetic_run, write_synthetic_run

from azr.ledger import Ledger
from azr.report.build import build_report
from azr.report.dashboard import Dashboard, DashboardError

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
FIGURES = ("rewards", "valid_rate", "solve_rate", "malformed", "lengths", "difficulty", "family_map", "family_shares", "oversight")
SPEC = SyntheticRun(steps=10, oversight=True, scorecard=True)

RENDERED = """(id) => {
  const node = document.getElementById(id);
  if (!node || !Array.isArray(node._fullData) || !node._fullData.length || !node.querySelector('svg.main-svg')) {
    return false;
  }
  const marks = Array.from(node.querySelectorAll('g.trace path, .hm image')).filter(
    (mark) => (mark.getAttribute('d') || mark.getAttribute('href') || mark.getAttribute('xlink:href') || '').length > 10);
  return marks.length > 0;
}"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` as root (it runs `apt-get install -y chromium`), "
                    "or `sudo apt-get install chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: run `make setup` (pip install -e '.[dev]')")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        yield context
        context.close()


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return write_synthetic_run(tmp_path / "run", SPEC)


def _assert_not_blank(png: bytes) -> None:
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    assert pixels.std() > 20, f"the screenshot looks blank (pixel std {pixels.std():.1f})"
    assert (pixels < 200).mean() > 0.03, "too few non-background pixels: nothing was drawn"


def _watch_errors(page: object) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))  # type: ignore[attr-defined]
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)  # type: ignore[attr-defined]
    return errors


def test_dashboard_renders_searches_and_follows_the_ledger(browser: object, run_dir: Path, tmp_path: Path) -> None:
    with Dashboard(run_dir, port=0, poll_s=0.5) as live:
        page = browser.new_page()  # type: ignore[attr-defined]
        errors = _watch_errors(page)
        page.goto(live.url)
        page.wait_for_function("Number(document.body.getAttribute('data-last-id')) > 0", timeout=60_000)
        for name in FIGURES:
            page.wait_for_function(RENDERED, arg=f"fig-{name}", timeout=60_000)

        page.fill("#task-search", "okapi_needle")
        page.wait_for_function("document.getElementById('task-count').textContent.startsWith('1 of')")
        row = page.locator("#task-table tr.task")
        assert row.count() == 1 and "okapi_needle" in row.inner_text()
        row.click()
        detail = page.locator("#task-table tr.detail")
        assert "solver attempts" in detail.inner_text() and NEEDLE_OUTPUT in detail.inner_text()
        page.fill("#task-search", "no task has this text 7f3a")
        page.wait_for_function("document.getElementById('task-count').textContent.startsWith('0 of')")
        page.fill("#task-search", "")

        shot = page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=False)
        _assert_not_blank(shot)

        last_step = extend_synthetic_run(run_dir, SPEC, more_steps=2)
        assert last_step == SPEC.steps + 2
        # The steps commit one by one, so the page may first show the one between; wait for the last.
        page.wait_for_function(
            "(step) => { const d = document.getElementById('fig-rewards').data; return d[0].x[d[0].x.length - 1] === step; }",
            arg=last_step, timeout=60_000)
        assert int(page.get_attribute("body", "data-last-id")) == json.loads(_get(live.url + "version.json")[1])["last_id"]
        assert errors == [], errors
        page.close()
    with Ledger.open(run_dir, readonly=True) as ledger:
        assert ledger.verify().ok, "the dashboard must leave the ledger untouched"


def test_static_report_renders_offline(browser: object, run_dir: Path, tmp_path: Path) -> None:
    report = build_report(run_dir, tmp_path / "report.html")
    page = browser.new_page()  # type: ignore[attr-defined]
    errors = _watch_errors(page)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(report.as_uri())
    for name in FIGURES:
        page.wait_for_function(RENDERED, arg=f"fig-{name}", timeout=60_000)
    page.fill("#task-search", "okapi_needle")
    page.wait_for_function("document.getElementById('task-count').textContent.startsWith('1 of')")
    _assert_not_blank(page.screenshot(path=str(tmp_path / "report.png")))
    assert [url for url in requests if not url.startswith(("file:", "data:", "blob:"))] == []
    assert errors == [], errors
    page.close()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_dashboard_routes_and_localhost_default(run_dir: Path) -> None:
    with Dashboard(run_dir, port=0, poll_s=0.5) as live:
        assert live.url.startswith("http://127.0.0.1:")
        status, page = _get(live.url)
        assert status == 200 and b'"live":true' in page and b'src="/plotly.min.js"' in page
        status, script = _get(live.url + "plotly.min.js")
        assert status == 200 and len(script) > 1_000_000
        views = json.loads(_get(live.url + "views.json")[1])
        version = json.loads(_get(live.url + "version.json")[1])
        assert version["last_id"] == views["meta"]["last_id"] > 0
        assert views["meta"]["last_step"] == SPEC.steps
        assert _get(live.url + "ledger.sqlite")[0] == 404


def test_dashboard_on_a_taken_port_says_so(run_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(DashboardError, match="--port"):
            Dashboard(run_dir, port=taken.getsockname()[1])


def test_dashboard_needs_a_ledger(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no ledger"):
        Dashboard(tmp_path, port=0)
