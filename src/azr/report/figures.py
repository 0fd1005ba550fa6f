"""The report's plots as plain Plotly JSON (data + layout), ready for Plotly.js in the page.

Figures are built as dicts rather than through plotly's Python classes: the page draws
them with the inlined Plotly.js either way, and skipping the Python-side validation keeps
a build of a long run within seconds.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import fmean
from typing import Any, Iterable

from azr.report.families import FamilyMap
from azr.report.snapshot import AttemptRow, EvalPoint, OversightRow, ProposalRow

Figure = dict[str, Any]

TYPE_COLOURS = {"deduction": "#1f77b4", "abduction": "#d62728", "induction": "#2ca02c"}
EXTRA_COLOURS = ["#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#ff7f0e"]
PALETTE = [*TYPE_COLOURS.values(), *EXTRA_COLOURS]
VERDICT_COLOURS = {"veto": "#d62728", "flag": "#ff7f0e", "allow": "#2ca02c", "pause": "#9467bd", "stop": "#000000"}
ROLE_DASH = {"propose": "dot", "solve": "solid"}
MAX_BINS = 60
RATE_BINS = 10


def colour(task_type: str, index: int = 0) -> str:
    return TYPE_COLOURS.get(task_type, EXTRA_COLOURS[index % len(EXTRA_COLOURS)])


def layout(title: str, x_title: str = "step", y_title: str = "", **extra: Any) -> dict[str, Any]:
    base = {
        "title": {"text": title, "font": {"size": 15}},
        "xaxis": {"title": {"text": x_title}, "zeroline": False},
        "yaxis": {"title": {"text": y_title}},
        "margin": {"l": 55, "r": 20, "t": 45, "b": 45},
        "height": 360,
        "autosize": True,
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.3},
        "template": "plotly_white",
    }
    base.update(extra)
    return base


def metric_lines(
    metrics: dict[int, dict[str, float]], prefix: str, title: str, y_title: str, y_range: list[float] | None = None
) -> Figure | None:
    """One line per metric under ``prefix`` (``reward/``, ``valid_rate/`` ...) over steps."""
    names = sorted({name for values in metrics.values() for name in values if name.startswith(prefix)})
    if not names:
        return None
    steps = sorted(metrics)
    data = []
    for index, name in enumerate(names):
        parts = name[len(prefix):].split("/")
        task_type, role = parts[0], parts[1] if len(parts) > 1 else ""
        points = [(step, metrics[step][name]) for step in steps if name in metrics[step]]
        data.append({
            "type": "scatter", "mode": "lines+markers" if len(points) < 30 else "lines",
            "name": name[len(prefix):].replace("/", " · "),
            "x": [p[0] for p in points], "y": [p[1] for p in points],
            "line": {"color": colour(task_type, index), "dash": ROLE_DASH.get(role, "solid")},
        })
    extra = {"yaxis": {"title": {"text": y_title}, "range": y_range}} if y_range else {}
    return {"data": data, "layout": layout(title, y_title=y_title, **extra)}


def solve_rates(metrics: dict[int, dict[str, float]]) -> Figure | None:
    """The solver's training solve rate (solid) and new tasks' learnability solve rate (dotted)."""
    solid = metric_lines(metrics, "solve_rate/", "", "")
    dotted = metric_lines(metrics, "proposal_solve_rate/", "", "")
    if solid is None and dotted is None:
        return None
    data = []
    for figure, suffix, dash in ((solid, "solver", "solid"), (dotted, "new tasks", "dot")):
        for trace in (figure or {"data": []})["data"]:
            trace["name"] = f"{trace['name']} ({suffix})"
            trace["line"]["dash"] = dash
            data.append(trace)
    return {"data": data, "layout": layout("Solve rates", y_title="fraction solved",
                                           yaxis={"title": {"text": "fraction solved"}, "range": [0, 1.02]})}


def completion_lengths(proposals: list[ProposalRow], attempts: list[AttemptRow]) -> Figure | None:
    """Mean completion tokens per step for each (task type, role)."""
    sums: dict[tuple[str, str], dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for row in proposals:
        sums[(row.task_type, "propose")][row.step].append(row.completion_tokens)
    for row in attempts:
        sums[(row.task_type, "solve")][row.step].append(row.completion_tokens)
    if not sums:
        return None
    data = []
    for index, ((task_type, role), by_step) in enumerate(sorted(sums.items())):
        steps = sorted(by_step)
        data.append({
            "type": "scatter", "mode": "lines", "name": f"{task_type} · {role}",
            "x": steps, "y": [fmean(by_step[s]) for s in steps],
            "line": {"color": colour(task_type, index), "dash": ROLE_DASH[role]},
        })
    return {"data": data, "layout": layout("Completion length", y_title="mean tokens")}


def step_bins(steps: Iterable[int]) -> tuple[int, int]:
    """(first step, bin width) so that at most MAX_BINS bins cover the steps."""
    values = list(steps)
    first, last = min(values), max(values)
    width = max(1, -(-(last - first + 1) // MAX_BINS))
    return first, width


def difficulty(proposals: list[ProposalRow]) -> Figure | None:
    """Where new tasks' solve rates fall, step by step: a heatmap of shares, with mean learnability."""
    rated = [row for row in proposals if row.valid and row.solve_rate is not None]
    if not rated:
        return None
    first, width = step_bins(row.step for row in rated)
    counts: dict[int, list[int]] = defaultdict(lambda: [0] * RATE_BINS)
    learn: dict[int, list[float]] = defaultdict(list)
    for row in rated:
        start = first + (row.step - first) // width * width
        rate = row.solve_rate or 0.0
        counts[start][min(RATE_BINS - 1, int(rate * RATE_BINS))] += 1
        learn[start].append(1.0 - rate if 0.0 < rate < 1.0 else 0.0)
    starts = sorted(counts)
    centres = [(b + 0.5) / RATE_BINS for b in range(RATE_BINS)]
    shares = [[counts[s][b] / sum(counts[s]) for s in starts] for b in range(RATE_BINS)]
    heat = {
        "type": "heatmap", "x": starts, "y": centres, "z": shares, "colorscale": [[0, "#ffffff"], [0.15, "#c6dbef"], [1, "#08306b"]], "zmin": 0, "zmax": 1,
        "colorbar": {"title": {"text": "share"}}, "name": "share of new tasks",
        "hovertemplate": "steps from %{x}<br>solve rate ≈ %{y:.2f}<br>share %{z:.0%}<extra></extra>",
    }
    line = {
        "type": "scatter", "mode": "lines+markers", "name": "mean learnability (1 - s, 0 at s∈{0,1})",
        "x": starts, "y": [fmean(learn[s]) for s in starts], "line": {"color": "#d62728"},
    }
    title = "Difficulty of new tasks" + (f" (bins of {width} steps)" if width > 1 else "")
    return {"data": [heat, line], "layout": layout(title, y_title="solve rate of the new task",
                                                   yaxis={"title": {"text": "solve rate"}, "range": [0, 1]})}


def family_map(fmap: FamilyMap) -> Figure | None:
    """The 2-D map of valid proposals, coloured by the step that proposed them."""
    if not fmap.x:
        return None
    labels = {fam.id: fam.label for fam in fmap.families}
    hover = [
        f"step {row.step} · {row.task_type}<br>family: {labels.get(fam, '?')}<br>"
        + "<br>".join(_escape(line) for line in row.program.splitlines()[:6])
        for row, fam in zip(fmap.rows_of_point, fmap.family_of_point)
    ]
    trace = {
        "type": "scatter", "mode": "markers", "x": fmap.x, "y": fmap.y, "text": hover, "hoverinfo": "text",
        "marker": {"color": fmap.steps, "colorscale": "Viridis", "size": 7, "opacity": 0.8,
                   "colorbar": {"title": {"text": "step"}}},
        "name": "proposals",
    }
    return {"data": [trace], "layout": layout("Task families (2-D map of valid proposals)", x_title="component 1",
                                              y_title="component 2", height=460)}


def family_shares(fmap: FamilyMap, top: int = 8) -> Figure | None:
    """Each top family's share of the new tasks per step bin, stacked (over the map's sampled points)."""
    if not fmap.families or not fmap.steps:
        return None
    first, width = step_bins(fmap.steps)
    totals: dict[int, int] = defaultdict(int)
    per: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for step, fam in zip(fmap.steps, fmap.family_of_point):
        start = first + (step - first) // width * width
        totals[start] += 1
        per[fam][start] += 1
    starts = sorted(totals)
    data = []
    for index, fam in enumerate(fmap.families[:top]):
        data.append({
            "type": "bar", "name": f"#{index + 1} {fam.label}", "x": starts,
            "y": [per[fam.id][s] / totals[s] for s in starts],
            "marker": {"color": PALETTE[index % len(PALETTE)]},
        })
    return {"data": data, "layout": layout("Family shares of new tasks (top families by growth)",
                                           y_title="share", barmode="stack")}


def eval_curves(points: list[EvalPoint]) -> Figure | None:
    if not points:
        return None
    series: dict[str, list[EvalPoint]] = defaultdict(list)
    for point in points:
        series[point.name].append(point)
    data = []
    for index, (name, values) in enumerate(sorted(series.items())):
        values.sort(key=lambda p: p.step)
        data.append({"type": "scatter", "mode": "lines+markers", "name": name,
                     "x": [p.step for p in values], "y": [p.value for p in values],
                     "line": {"color": EXTRA_COLOURS[index % len(EXTRA_COLOURS)]}})
    return {"data": data, "layout": layout("Evaluation", y_title="score")}


def oversight_timeline(rows: list[OversightRow]) -> Figure | None:
    """Every oversight event at its step, one row per monitor, coloured by verdict."""
    if not rows:
        return None
    by_verdict: dict[str, list[OversightRow]] = defaultdict(list)
    for row in rows:
        by_verdict[row.verdict].append(row)
    data = []
    for index, (verdict, items) in enumerate(sorted(by_verdict.items())):
        data.append({
            "type": "scatter", "mode": "markers", "name": verdict,
            "x": [row.step if row.step is not None else 0 for row in items],
            "y": [row.monitor or row.kind or "oversight" for row in items],
            "text": [_escape(f"{row.kind} ({row.severity}): {row.reason}") for row in items], "hoverinfo": "text+x",
            "marker": {"size": 10, "symbol": "diamond",
                       "color": VERDICT_COLOURS.get(verdict, EXTRA_COLOURS[index % len(EXTRA_COLOURS)])},
        })
    return {"data": data, "layout": layout("Oversight events", y_title="monitor")}


def _escape(text: str) -> str:
    """Plotly hover text is HTML: model-written text must not become markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
