"""azr.report: the curriculum observatory, as one offline HTML file or a live localhost dashboard.

The ledger is folded into rows (:mod:`snapshot`), the rows into views (:mod:`views`: plots,
task families, tables), and the views into one page (:mod:`page`) that the static report
inlines and the dashboard serves and refreshes.

``ReportConfig`` loads at once; the builders load scikit-learn and plotly on first use, so
``azr --help`` and the trainer's config do not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from azr.report.config import ReportConfig

if TYPE_CHECKING:
    from azr.report.build import build_report
    from azr.report.dashboard import Dashboard, DashboardError

__all__ = ["Dashboard", "DashboardError", "ReportConfig", "build_report"]

_LAZY = {"build_report": "azr.report.build", "Dashboard": "azr.report.dashboard", "DashboardError": "azr.report.dashboard"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'azr.report' has no attribute {name!r}")
