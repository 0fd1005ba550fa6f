"""``azr dashboard``: the report's views served on localhost, redrawn as the ledger grows.

A background thread polls the ledger (read-only, only the records appended since its
last look) and rebuilds the views when anything new arrived; requests are answered from
that cache, so a slow rebuild never stalls the page. The standard library's HTTP server
is enough for one user on localhost.

One route writes: ``POST /review/decision`` appends a person's review verdict to the run's
inbox file (never the ledger, whose one writer is the training process). It answers only
requests whose ``Host`` is this server and whose ``Origin`` is this page, so another web
page open in the same browser cannot submit verdicts.
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from azr.errors import AzrError
from azr.ledger import Ledger
from azr.oversight.review import ReviewInputError
from azr.report.config import DEFAULT_HOST, DEFAULT_PORT, ReportConfig
from azr.report.page import (
    DECISION_URL,
    PLOTLY_URL,
    REVIEW_URL,
    live_page,
    plotly_js,
    script_json,
)
from azr.report.review_board import ReviewBoard, ReviewConflictError
from azr.report.snapshot import LedgerFollower
from azr.report.views import build_views

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class DashboardError(AzrError):
    """The dashboard cannot start (no ledger, or the port is taken)."""


class Dashboard:
    """A live view of one run. ``start()`` serves in the background; ``close()`` stops it."""

    def __init__(
        self,
        run_dir: str | Path,
        config: ReportConfig | None = None,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        poll_s: float = 2.0,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.config = config or ReportConfig()
        self.poll_s = poll_s
        Ledger.open(self.run_dir, readonly=True).close()
        self._follower = LedgerFollower(self.run_dir)
        self.review = ReviewBoard(self.run_dir)
        self._lock = threading.Lock()
        self._views_json = b""
        self._version = b'{"last_id":0}'
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        page = live_page(str(self.run_dir), interval_ms=int(poll_s * 1000)).encode("utf-8")
        try:
            self._server = ThreadingHTTPServer((host, port), _handler(self, page))
        except OSError as exc:
            raise DashboardError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another port with --port"
            ) from exc
        self._server.daemon_threads = True
        self.refresh()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def allowed_hosts(self) -> set[str] | None:
        """The ``Host`` values that name this server; None when it listens on every address,
        where any name may reach it and only the Origin check applies."""
        host, port = self._server.server_address[:2]
        if host in ("0.0.0.0", "::"):
            return None
        names = {host, *LOOPBACK} if host in LOOPBACK else {host}
        return {f"{name}:{port}" for name in names} | {f"[{name}]:{port}" for name in names if ":" in name}

    def refresh(self) -> bool:
        """Read what the ledger gained since the last look; rebuild the views if anything did."""
        try:
            read = self._follower.poll()
        except AzrError as exc:
            log.warning("dashboard: cannot read the ledger of %s this time: %s", self.run_dir, exc)
            return False
        if not read and self._views_json:
            return False
        views = build_views(self._follower.snapshot, self.config)
        body = script_json(views).encode("utf-8")
        version = json.dumps({"last_id": views["meta"]["last_id"]}).encode("utf-8")
        with self._lock:
            self._views_json, self._version = body, version
        log.info("dashboard: views rebuilt at record %d", views["meta"]["last_id"])
        return True

    def cached(self) -> tuple[bytes, bytes]:
        """(views JSON, version JSON) as last built."""
        with self._lock:
            return self._views_json, self._version

    def start(self) -> "Dashboard":
        """Serve and refresh in background threads; returns self for ``with`` use."""
        self._threads = [
            threading.Thread(target=self._server.serve_forever, name="azr-dashboard-http", daemon=True),
            threading.Thread(target=self._refresh_loop, name="azr-dashboard-refresh", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve until interrupted (Ctrl-C)."""
        self.start()
        try:
            while not self._stop.wait(0.5):
                pass
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)

    def __enter__(self) -> "Dashboard":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _refresh_loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.refresh()


def _handler(dashboard: Dashboard, page: bytes) -> type[BaseHTTPRequestHandler]:
    """A request handler bound to one dashboard: read-only views and the review inbox's one POST."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            route = self.path.split("?", 1)[0]
            if route in ("/", "/index.html"):
                self._send(page, "text/html; charset=utf-8")
            elif route == PLOTLY_URL:
                self._send(plotly_js().encode("utf-8"), "application/javascript", cache=True)
            elif route == "/views.json":
                self._send(dashboard.cached()[0], "application/json")
            elif route == "/version.json":
                self._send(dashboard.cached()[1], "application/json")
            elif route == REVIEW_URL:
                self._send_json(HTTPStatus.OK, dashboard.review.state())
            elif route == "/favicon.ico":
                self.send_response(HTTPStatus.NO_CONTENT)
                self.end_headers()
            else:
                self.send_error(HTTPStatus.NOT_FOUND, "the dashboard serves /, /views.json and /version.json")

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            if self.path.split("?", 1)[0] != DECISION_URL:
                self._send_json(HTTPStatus.NOT_FOUND, {"error": f"the dashboard accepts POST only at {DECISION_URL}"})
                return
            refused = self._foreign()
            if refused:
                log.warning("dashboard: refused a review decision: %s", refused)
                self._send_json(HTTPStatus.FORBIDDEN, {"error": refused})
                return
            body, problem = self._json_body()
            if problem:
                self._send_json(HTTPStatus.BAD_REQUEST, {"error": problem})
                return
            try:
                decision = dashboard.review.submit(body)
            except ReviewConflictError as exc:
                self._send_json(HTTPStatus.CONFLICT, {"error": str(exc)})
                return
            except ReviewInputError as exc:
                self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
                return
            log.info("dashboard: %s on review item %s by %s", decision.decision, decision.item_id, decision.reviewer)
            self._send_json(HTTPStatus.OK, {"ok": True, "decision": decision.to_dict()})

        def _foreign(self) -> str | None:
            """Why this request may not come from the dashboard's own page, or None when it does."""
            host = self.headers.get("Host", "")
            allowed = dashboard.allowed_hosts()
            if not host or (allowed is not None and host not in allowed):
                return f"Host {host!r} is not this dashboard"
            origin = self.headers.get("Origin", "")
            parts = urlsplit(origin)
            if parts.scheme != "http" or parts.netloc != host or parts.path not in ("", "/"):
                return f"Origin {origin!r} is not this dashboard's page (http://{host})"
            return None

        def _json_body(self) -> tuple[Any, str | None]:
            if self.headers.get_content_type() != "application/json":
                return None, "send the decision as Content-Type: application/json"
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                return None, "the request needs a Content-Length"
            if not 0 < length <= MAX_BODY_BYTES:
                return None, f"the body must be 1 to {MAX_BODY_BYTES} bytes, not {length}"
            try:
                return json.loads(self.rfile.read(length).decode("utf-8")), None
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                return None, f"the body is not JSON ({exc})"

        def _send_json(self, status: HTTPStatus, value: Any) -> None:
            self._send(json.dumps(value, ensure_ascii=False).encode("utf-8"), "application/json", status=status)

        def _send(self, body: bytes, content_type: str, cache: bool = False,
                  status: HTTPStatus = HTTPStatus.OK) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's signature
            log.debug("dashboard: " + format, *args)

    return Handler
