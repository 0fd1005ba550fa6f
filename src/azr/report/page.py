"""The one HTML page both the static report and the live dashboard serve.

The report inlines Plotly.js and the views, so the file opens offline with nothing beside
it; the dashboard links Plotly.js from its own server and fetches the views as they change.
Only the dashboard's page carries the review queue (``review.js``): a static file has no
server to take a decision.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from azr.report.views import Views

PLOTLY_URL = "/plotly.min.js"
REVIEW_URL = "/review.json"
DECISION_URL = "/review/decision"


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The full Plotly.js bundle that ships with the plotly Python package (no CDN)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _asset(name: str) -> str:
    return resources.files("azr.report").joinpath("assets", name).read_text(encoding="utf-8")


def script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' can close it or open a comment."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _fill(title: str, plotly_tag: str, config: dict[str, Any], views_json: str, review_js: str = "") -> str:
    parts = {
        "<!--AZR:TITLE-->": title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
        "<!--AZR:STYLE-->": _asset("style.css"),
        "<!--AZR:CONFIG-->": script_json(config),
        "<!--AZR:DOM-->": _asset("dom.js"),
        "<!--AZR:APP-->": _asset("app.js"),
        "<!--AZR:PLOTLY-->": plotly_tag,
        "<!--AZR:VIEWS-->": views_json,
        "<!--AZR:REVIEW-->": review_js,
    }
    page = _asset("page.html")
    for marker, text in parts.items():
        head, sep, tail = page.partition(marker)
        page = head + text + tail if sep else page
    return page


def static_page(views: Views) -> str:
    """A self-contained page: Plotly.js, the app and the views all inline."""
    plotly_tag = f"<script>{plotly_js()}</script>"
    return _fill(views["meta"]["run_dir"], plotly_tag, {"live": False}, script_json(views))


def live_page(title: str, interval_ms: int) -> str:
    """The dashboard's page: it polls the server and redraws when the ledger grows."""
    config = {"live": True, "interval_ms": interval_ms, "views_url": "/views.json", "version_url": "/version.json",
              "review_url": REVIEW_URL, "decision_url": DECISION_URL}
    return _fill(title, f'<script src="{PLOTLY_URL}"></script>', config, "", _asset("review.js"))
