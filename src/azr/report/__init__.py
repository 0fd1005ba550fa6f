"""azr.report: the curriculum observatory, as one offline HTML file or a live localhost dashboard.

The ledger is folded into rows (:mod:`snapshot`), the rows into views (:mod:`views`: plots,
task families, tables), and the views into one page (:mod:`page`) that the static report
inlines and the dashboard serves and refreshes.
"""

from azr.report.build import build_report
from azr.report.config import ReportConfig
from azr.report.dashboard import Dashboard, DashboardError

__all__ = ["Dashboard", "DashboardError", "ReportConfig", "build_report"]
