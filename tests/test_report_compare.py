"""``azr compare``: interval arithmetic against published values, and two real run directories.

The runs train the real loop, executor and ledger on the scripted stub engine of
``_stub_engine`` (a stand-in, named as such); one of them is the control.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from _stub_engine import StubEngine
from azr.cli.main import app
from azr.report.compare import CompareError, Measurement, RunSeries, compare
from azr.report.intervals import mcnemar_exact, newcombe, wilson
from azr.selfplay.config import load_run_config
from azr.selfplay.probes import PROBES_FILE
from azr.selfplay.run_dir import RunDir
from azr.selfplay.trainer import Trainer

SETTINGS = ["steps=2", "eval.every_n_steps=1", "eval.limit=0", "eval.probe_tasks_per_type=3"]


def test_wilson_and_newcombe_match_published_values():
    # Newcombe (1998), Statistics in Medicine 17:873, tables I and II
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    diff, low, high = newcombe(56, 70, 48, 80)
    assert (diff, low, high) == pytest.approx((0.2, 0.0524, 0.3339), abs=1e-4)
    with pytest.raises(ValueError, match="successes must lie in"):
        wilson(5, 4)


def test_mcnemar_uses_only_the_discordant_pairs():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 0) == pytest.approx(2 / 32)
    assert mcnemar_exact(3, 3) == 1.0


def test_a_run_is_read_at_its_last_measurement_before_the_common_time():
    series = RunSeries("r", Path("r"), {}, 0.0, measurements=[
        Measurement("probe-all", step, minutes * 60.0, 1, 10) for step, minutes in ((0, 0), (4, 10), (8, 21))])
    assert series.at("probe-all", 20 * 60).step == 4
    assert series.at("probe-all", 21 * 60).step == 8
    assert series.at("probe-all", -1) is None
    assert series.at("cruxeval-o", 60 * 60) is None


@pytest.fixture(scope="module")
def run_and_control(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("compare")
    paths = []
    for name, extra in (("run", []), ("control", ["engine.apply_updates=false",
                                                  f"eval.probes_file={root / 'run' / PROBES_FILE}"])):
        config = load_run_config(preset="smoke", overrides=[*SETTINGS, *extra])
        run = RunDir.create(root / name, config)
        Trainer(config, run, resume=False, engine=StubEngine()).train()
        paths.append(run.path)
    return paths[0], paths[1]


def test_the_control_is_found_and_every_measure_gets_a_paired_gap(run_and_control):
    run, control = run_and_control
    comparison = compare([run, control])
    assert comparison.control is not None and comparison.control.run_dir == control
    assert comparison.same_probes
    assert {"probe-all", "propose-all"} <= set(comparison.measures)
    gap = comparison.gaps[("run", "probe-all")]
    assert gap.p_paired is not None
    assert gap.difference == pytest.approx(gap.run.rate - gap.control.rate)
    assert gap.low <= gap.difference <= gap.high


def test_the_cli_prints_the_table_and_writes_an_offline_page(run_and_control, tmp_path: Path):
    run, control = run_and_control
    out = tmp_path / "compare.html"
    result = CliRunner().invoke(app, ["compare", str(run), str(control), "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert '"measure": "probe-all"' in result.stdout
    page = out.read_text()
    assert "Plotly.newPlot" in page and "src=\"http" not in page  # Plotly.js is inline: opens offline
    assert "probe-all (95% Wilson intervals)" in page


def test_runs_that_cannot_be_compared_are_refused_with_the_reason(run_and_control, tmp_path: Path):
    run, control = run_and_control
    with pytest.raises(CompareError, match="at least two run directories"):
        compare([run])
    with pytest.raises(CompareError, match="has no ledger.sqlite"):
        compare([run, tmp_path])
    with pytest.raises(CompareError, match="is not one of the runs given"):
        compare([run, control], control=tmp_path)
    with pytest.raises(CompareError, match="several runs have engine.apply_updates=false"):
        compare([control, control])


def test_drift_is_plotted_against_the_injected_error_rate_only_in_a_study():
    from azr.report.compare import Comparison
    from azr.report.compare_page import drift_figure

    def series(name: str, accept: float, solved: int) -> RunSeries:
        config = {"selfplay": {"verifier_faults": {"false_accept": accept, "false_reject": 0.0}}}
        return RunSeries(name, Path(name), config, 0.0,
                         measurements=[Measurement("probe-all", 8, 600.0, solved, 40)])

    runs = [series("noisy", 0.2, 4), series("honest", 0.0, 12), series("noisier", 0.4, 2)]
    study = Comparison(runs, None, 600.0, ["probe-all"], {}, True)
    [trace] = drift_figure(study)["data"]
    assert trace["x"] == [0.0, 0.2, 0.4] and trace["y"] == pytest.approx([0.3, 0.1, 0.05])
    assert trace["text"][1].startswith("noisy: false accept 0.2")
    honest_only = Comparison([series("a", 0.0, 4), series("b", 0.0, 5)], None, 600.0, ["probe-all"], {}, True)
    assert drift_figure(honest_only) is None
