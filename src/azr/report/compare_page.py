"""The offline HTML page of ``azr compare``: probe curves with intervals, the gap table, loop curves.

Plotly.js is inlined as in the run report, so the file opens with nothing beside it. Runs
keep one colour on every figure; the control is drawn dashed and grey, so "did the run
beat the control?" is the first thing the page answers.
"""

from __future__ import annotations

from html import escape
from typing import Any

from azr.report.compare import LOOP_CURVES, Comparison, RunSeries, loop_metric
from azr.report.figures import EXTRA_COLOURS, Figure, layout
from azr.report.page import plotly_js, script_json

RUN_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", *EXTRA_COLOURS]
CONTROL_COLOUR = "#7f7f7f"
TYPE_DASH = {"deduction": "solid", "abduction": "dash", "induction": "dot"}


def _style(comparison: Comparison, run: RunSeries) -> dict[str, Any]:
    if run is comparison.control:
        return {"color": CONTROL_COLOUR, "dash": "dash"}
    others = [r for r in comparison.runs if r is not comparison.control]
    return {"color": RUN_COLOURS[others.index(run) % len(RUN_COLOURS)]}


def _label(comparison: Comparison, run: RunSeries) -> str:
    if run is comparison.control and "control" not in run.name:
        return f"{run.name} (control)"
    return run.name


def measure_figure(comparison: Comparison, measure: str) -> Figure:
    """One held-out rate over training wall time, one line per run, with Wilson intervals as error bars."""
    data = []
    for run in comparison.runs:
        points = sorted((m for m in run.measurements if m.measure == measure), key=lambda m: m.elapsed_s)
        if not points:
            continue
        style = _style(comparison, run)
        data.append({
            "type": "scatter", "mode": "lines+markers", "name": _label(comparison, run),
            "x": [round(m.elapsed_s / 60, 2) for m in points], "y": [m.rate for m in points],
            "text": [f"step {m.step}: {m.successes:g}/{m.trials}" for m in points],
            "hovertemplate": "%{text}<br>%{y:.3f} at %{x:.1f} min<extra></extra>",
            "error_y": {"type": "data", "symmetric": False, "color": style["color"], "thickness": 1,
                        "array": [m.interval[1] - m.rate for m in points],
                        "arrayminus": [m.rate - m.interval[0] for m in points]},
            "line": style, "marker": {"color": style["color"]},
        })
    figure = layout(f"{measure} (95% Wilson intervals)", x_title="training wall time (min)", y_title="rate",
                    yaxis={"title": {"text": "rate"}, "range": [0, 1.02]})
    figure["shapes"] = [{"type": "line", "x0": comparison.equal_s / 60, "x1": comparison.equal_s / 60,
                         "y0": 0, "y1": 1, "yref": "paper", "line": {"color": "#999", "dash": "dot", "width": 1}}]
    return {"data": data, "layout": figure}


def loop_figure(comparison: Comparison, prefix: str, title: str, y_title: str) -> Figure | None:
    """One in-loop metric per (run, task type) over steps: colour is the run, dash the type."""
    data = []
    for run in comparison.runs:
        style = _style(comparison, run)
        for task_type, dash in TYPE_DASH.items():
            points = loop_metric(run, prefix, task_type)
            if points:
                data.append({"type": "scatter", "mode": "lines", "name": f"{_label(comparison, run)} · {task_type}",
                             "x": [p[0] for p in points], "y": [p[1] for p in points],
                             "line": {"color": style["color"], "dash": dash}})
    return {"data": data, "layout": layout(title, y_title=y_title)} if data else None


def fault_rates(run: RunSeries) -> tuple[float, float]:
    """A run's injected verifier error rates (false accept, false reject); 0, 0 for an honest run."""
    faults = (run.config.get("selfplay") or {}).get("verifier_faults") or {}
    return float(faults.get("false_accept", 0.0)), float(faults.get("false_reject", 0.0))


def drift_figure(comparison: Comparison) -> Figure | None:
    """Held-out rates at equal wall time against each run's injected verifier error rate.

    Drawn only when the runs differ in their rates (a verifier-alignment study): the honest
    probes are judged without faults, so their fall with the error rate is the drift.
    """
    rates = {run.name: fault_rates(run) for run in comparison.runs}
    if len(set(rates.values())) < 2:
        return None
    data = []
    for index, measure in enumerate(comparison.measures):
        points = sorted(((sum(rates[run.name]), run, m) for run in comparison.runs
                         if (m := run.at(measure, comparison.equal_s)) is not None), key=lambda p: p[0])
        colour = RUN_COLOURS[index % len(RUN_COLOURS)]
        data.append({
            "type": "scatter", "mode": "lines+markers", "name": measure,
            "x": [p[0] for p in points], "y": [p[2].rate for p in points],
            "text": [f"{p[1].name}: false accept {rates[p[1].name][0]:g}, false reject {rates[p[1].name][1]:g}, "
                     f"step {p[2].step}, {p[2].successes:g}/{p[2].trials}" for p in points],
            "hovertemplate": "%{text}<br>%{y:.3f}<extra></extra>",
            "error_y": {"type": "data", "symmetric": False, "color": colour, "thickness": 1,
                        "array": [p[2].interval[1] - p[2].rate for p in points],
                        "arrayminus": [p[2].rate - p[2].interval[0] for p in points]},
            "line": {"color": colour}, "marker": {"color": colour},
        })
    title = "Drift: held-out rates at equal wall time against the injected verifier error rate (95% Wilson)"
    return {"data": data, "layout": layout(title, x_title="false accept + false reject rate", y_title="rate",
                                           yaxis={"title": {"text": "rate"}, "range": [0, 1.02]})}


def gap_rows(comparison: Comparison) -> list[list[str]]:
    """The table of the page and of the terminal: one row per (measure, run), the control's own row first."""
    rows = []
    for measure in comparison.measures:
        for run in comparison.runs:
            point = run.at(measure, comparison.equal_s)
            if point is None:
                continue
            low, high = point.interval
            cells = [measure, _label(comparison, run), str(point.step), f"{point.elapsed_s / 60:.1f}",
                     f"{point.successes:g}/{point.trials}", f"{point.rate:.3f} [{low:.3f}, {high:.3f}]"]
            gap = comparison.gaps.get((run.name, measure))
            if gap is None:
                cells += ["", "", ""]
            else:
                paired = "" if gap.p_paired is None else f"{gap.p_paired:.3f}"
                cells += [f"{gap.difference:+.3f} [{gap.low:+.3f}, {gap.high:+.3f}]", paired, gap.verdict]
            rows.append(cells)
    return rows


GAP_HEADER = ["measure", "run", "step", "min", "k/n", "rate [95% CI]", "gap to control [95% CI]",
              "paired p", "verdict"]


def compare_page(comparison: Comparison) -> str:
    """The whole self-contained page."""
    figures = [measure_figure(comparison, m) for m in comparison.measures]
    figures += [f for f in (loop_figure(comparison, *curve) for curve in LOOP_CURVES) if f is not None]
    figures += [f for f in (drift_figure(comparison),) if f is not None]
    header = "".join(f"<th>{escape(h)}</th>" for h in GAP_HEADER)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in gap_rows(comparison))
    control = comparison.control.name if comparison.control else "none (no run has engine.apply_updates=false)"
    notes = [f"Compared at equal training wall time: {comparison.equal_s / 60:.1f} min after each run's step-0 "
             f"evaluation (dotted line). Control: {control}.",
             "Gap intervals are Newcombe's hybrid score intervals for a difference of two rates; paired p is "
             "McNemar's exact test on the probes the two runs answered differently (same probe set only)."]
    if not comparison.same_probes:
        notes.append("These runs were measured on different probe sets: their probe gaps are not paired.")
    divs = "".join(f'<div class="fig" id="fig{i}"></div>' for i in range(len(figures)))
    runs = ", ".join(escape(str(r.run_dir)) for r in comparison.runs)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>azr compare</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5em;max-width:1200px}}
table{{border-collapse:collapse;font-size:13px}}td,th{{border:1px solid #ddd;padding:3px 7px;text-align:left}}
th{{background:#f4f4f4}}.fig{{height:380px;margin:1em 0}}</style>
<script>{plotly_js()}</script></head><body>
<h1>azr compare</h1><p>{runs}</p>{''.join(f'<p>{escape(n)}</p>' for n in notes)}
<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>{divs}
<script>const FIGS={script_json(figures)};
FIGS.forEach((f,i)=>Plotly.newPlot("fig"+i,f.data,f.layout,{{responsive:true}}));</script>
</body></html>
"""
