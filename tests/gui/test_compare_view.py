"""Two runs side by side in the window: a run with a CDU loss replayed against the same
run without it (a recording, or a site table), the reference drawn dashed in the trends,
the crosshair reading both, the KPI table equal to ``replay.compare`` as the replay scrubs,
and runs that cannot be compared refused with a message, in the window and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.fakes import FakeSimulation, scenario_named
from twin.cli import main
from twin.gui._qt.kpi_comparison import LOST_TOKENS
from twin.runs.output import run_headless
from twin.runs.recording import MANIFEST, Recording
from twin.runs.replay import KPI_LABELS, ReplaySimulation, SiteSeries, compare, kpis
from twin.runs.report import format_difference, format_number
from twin.scenario import builtin_scenarios, loads

pytestmark = pytest.mark.gui

CDU_LOSS = """
[[events]]
at_s = "10min"
kind = "cdu-loss"
target = "CDU"
"""
FAULT_AT_S = 600.0


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """single-rack for 30 min: ``base`` recorded every minute (and its site table,
    ``base.csv``), ``fault`` with a CDU loss at 10 min recorded every 30 s."""
    folder = tmp_path_factory.mktemp("runs")
    text = builtin_scenarios()["single-rack"].read_text()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("twin.runs.recording.MIN_FLUSH_WALL_S", 0.0)  # several parts, at once
        for label, scenario_text, record_every_s in (
            ("base", text, 60.0),
            ("fault", text + CDU_LOSS, 30.0),
        ):
            assert (
                run_headless(
                    loads(scenario_text),
                    duration_s=1800,
                    dt_s=1.0,
                    every_steps=60,
                    out=folder / f"{label}.csv",
                    progress=None,
                    record=folder / f"{label}.twinrec",
                    record_every_s=record_every_s,
                    scenario_toml=scenario_text,
                )
                == 0
            )
    return {
        "base": folder / "base.twinrec",
        "fault": folder / "fault.twinrec",
        "base.csv": folder / "base.csv",
    }


def _replay_window(make_window, qtbot, runs, **kwargs):
    recording = Recording.open(runs["fault"])
    window = make_window(
        "single-rack", simulation=ReplaySimulation(recording), running=False, **kwargs
    )
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    return window, recording


def _seek(window, qtbot, time_s: float) -> None:
    window.runner.call(lambda sim: sim.seek(time_s))
    qtbot.waitUntil(
        lambda: window.snapshot is not None and window.snapshot.time_s == time_s, timeout=30_000
    )
    window.trends.refresh()


def _series_index(view, label: str) -> int:
    return [series.label for series in view.spec.series].index(label)


def test_the_replay_shows_the_reference_run_dashed_with_both_names(make_window, qtbot, runs):
    from PySide6.QtCore import Qt

    reference = SiteSeries.read(runs["base"])
    window, recording = _replay_window(make_window, qtbot, runs, reference=reference)
    _seek(window, qtbot, 1200.0)
    trends = window.trends
    view = trends.site_views["temperatures"]
    k = _series_index(view, "Hottest GPU")
    x, y = (np.asarray(a) for a in view.reference_curves[k].getOriginalDataset())
    np.testing.assert_array_equal(x, reference.columns["time_s"])
    np.testing.assert_array_equal(y, reference.columns["gpu_temp_max_c"])
    # at the replayed run's times, the dashed curve is the reference as compare() aligns it
    expected = compare(SiteSeries.of(recording), reference)
    a, b = expected.series["gpu_temp_max_c"]
    np.testing.assert_allclose(np.interp(expected.time_s, x, y), b)
    assert np.max(a - b) > 5.0  # the CDU loss shows: a test of a real difference
    power = trends.site_views["power"]
    it_mw = power.reference_curves[_series_index(power, "IT power")].getOriginalDataset()[1]
    np.testing.assert_allclose(it_mw, reference.columns["it_power_kw"] / 1000)
    assert power.reference_curves[_series_index(power, "Import cap")] is None  # not recorded

    reference_pen = view.reference_curves[k].opts["pen"]
    assert reference_pen.style() == Qt.PenStyle.DashLine
    assert reference_pen.color() != view.curves[k].opts["pen"].color()
    for shown in (view, trends.site_views["tokens"]):  # one series or several
        labels = [label.text for _, label in shown.legend.items]
        assert labels[-2:] == ["fault.twinrec", "base.twinrec"]
        assert shown.legend.isVisible()
    trends.set_time_window(3600.0)  # both runs share the plot's time window
    assert view.plot.viewRange()[0] == pytest.approx([0.0, 3600.0])

    dashed = [curve for curve in view.reference_curves if curve is not None]
    window.compare_with(None)
    assert dashed and all(curve.scene() is None for curve in dashed)
    assert not trends.comparison_table.isVisible()
    assert [label.text for _, label in view.legend.items] == [
        series.label for series in view.spec.series
    ]


def test_the_kpi_table_is_compare_up_to_the_time_shown_as_the_replay_scrubs(
    make_window, qtbot, runs
):
    from PySide6.QtCore import Qt

    reference = SiteSeries.read(runs["base"])
    window, recording = _replay_window(make_window, qtbot, runs, reference=reference)
    table = window.trends.comparison_table
    assert table.isVisible()
    whole = SiteSeries.of(recording)
    for time_s in (1500.0, 900.0, 1800.0):  # scrubbing back and forth
        _seek(window, qtbot, time_s)
        expected = compare(reference, whole.until(time_s))  # differences: A - B
        shown = table.comparison
        assert shown is not None and shown.time_s[-1] == time_s
        for key, label in KPI_LABELS.items():
            assert shown.differences[key] == pytest.approx(expected.differences[key], nan_ok=True)
            assert table.cell_text(label, "A") == format_number(expected.kpis_b[key])
            assert table.cell_text(label, "B") == format_number(expected.kpis_a[key])
            assert table.cell_text(label, "A − B") == format_difference(expected.differences[key])
        assert table.cell_text(LOST_TOKENS, "A − B") == format_number(expected.lost_tokens)
        assert expected.lost_tokens > 0 and expected.differences["peak_gpu_temp_c"] > 5.0
        assert f"over the first {time_s / 60:.0f}min" in table.note.text()
    assert "A: fault.twinrec" in table.note.text() and "B: base.twinrec" in table.note.text()
    worse = table.table.item(list(KPI_LABELS).index("peak_gpu_temp_c"), 2)
    assert worse.data(Qt.ItemDataRole.UserRole) == "worse"  # judged as the HTML report does


def test_the_crosshair_reads_both_runs_and_the_difference(make_window, qtbot, runs):
    reference = SiteSeries.read(runs["base"])
    window, recording = _replay_window(make_window, qtbot, runs, reference=reference)
    time_s = 1200.0
    _seek(window, qtbot, time_s)
    window.trends.show_readout(time_s + 0.2)  # the nearest bin holds the row at 1200 s
    a = recording.snapshot(recording.index_at(time_s)).site["gpu_temp_max_c"]
    b = float(np.interp(time_s, reference.columns["time_s"], reference.columns["gpu_temp_max_c"]))
    text = window.trends.site_views["temperatures"].readout.textItem.toPlainText()
    assert f"Hottest GPU {a:.1f} °C · B {b:.1f} °C · A − B {a - b:+.1f} °C" in text
    assert a - b > 1.0  # hotter after the CDU loss


def test_the_difference_view_plots_a_minus_b(make_window, qtbot, runs):
    reference = SiteSeries.read(runs["base"])
    window, recording = _replay_window(make_window, qtbot, runs, reference=reference)
    trends = window.trends
    trends.set_following(True)
    times = [window.snapshot.time_s]
    for time_s in (60.0, 90.0, 660.0, 690.0):  # forward steps keep the history
        window.runner.call(lambda sim, t=time_s: sim.seek(t))
        qtbot.waitUntil(lambda t=time_s: window.snapshot.time_s == t, timeout=30_000)
        times.append(time_s)
    assert trends.difference_button.isVisible()
    trends.difference_button.click()
    trends.refresh()
    view = trends.site_views["temperatures"]
    k = _series_index(view, "Hottest GPU")
    x, y = (np.asarray(a) for a in view.curves[k].getOriginalDataset())
    np.testing.assert_allclose(x[::2], times)
    a = np.array([recording.snapshot(recording.index_at(t)).site["gpu_temp_max_c"] for t in times])
    b = np.interp(
        times, reference.columns["time_s"], reference.columns["gpu_temp_max_c"], left=np.nan
    )  # before the reference's first row there is no difference
    assert np.isnan(b[0]) and not np.isnan(b[1:]).any()
    np.testing.assert_allclose(y[::2], a - b)
    assert not view.reference_curves[k].isVisible()
    assert "A − B" in view.plot.getAxis("left").labelText
    power = trends.site_views["power"]
    cap = power.curves[_series_index(power, "Import cap")].getOriginalDataset()[0]
    assert cap is None or len(cap) == 0  # nothing to subtract: left out
    trends.set_difference(False)
    assert view.reference_curves[k].isVisible()


def test_a_live_run_is_compared_with_a_run_table_as_it_goes(make_window, qtbot, runs):
    simulation = FakeSimulation(scenario_named("single-rack"))
    window = make_window("single-rack", simulation=simulation, running=False)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    assert window.compare_with(runs["base.csv"])
    reference = SiteSeries.read(runs["base.csv"])
    for _ in range(5):
        generation = window.shown_generation
        window.runner.call(lambda sim: sim.step(60))
        qtbot.waitUntil(lambda g=generation: window.shown_generation > g, timeout=30_000)
    window.trends.refresh()
    shown = window.trends.comparison_table.comparison
    assert shown is not None
    end_s = window.snapshot.time_s  # from the snapshot shown when comparing began
    assert shown.time_s[-1] == 300.0  # the reference's rows, every minute
    facility_kw = window.snapshot.site["facility_power_kw"]  # constant in the test double
    assert shown.kpis_b["energy_mwh"] == pytest.approx(facility_kw * end_s / 3.6e6)
    expected_b = kpis(reference.until(end_s))
    for key in KPI_LABELS:
        assert shown.kpis_a[key] == pytest.approx(expected_b[key], nan_ok=True)
    assert window.trends.comparison_table.note.text().startswith(
        "A: single-rack (live)\nB: base.csv"
    )


@pytest.mark.parametrize(
    ("make_bad", "message"),
    [
        (lambda runs, tmp: tmp / "missing.twinrec", "no such file"),
        (lambda runs, tmp: tmp, "not a twin recording (no manifest.json)"),
        (
            lambda runs, tmp: _edited_table(runs, tmp, "scenario", "gigawatt"),
            "is a run of scenario gigawatt, single-rack (live) of single-rack",
        ),
        (
            lambda runs, tmp: _edited_table(runs, tmp, "start", "2027-01-01T00:00:00"),
            "is a run of start 2027-01-01T00:00:00",
        ),
    ],
)
def test_the_window_refuses_runs_it_cannot_compare_with_a_message(
    make_window, qtbot, runs, tmp_path, make_bad, message
):
    from PySide6.QtWidgets import QMessageBox

    window = make_window(
        "single-rack", running=False, simulation=FakeSimulation(scenario_named("single-rack"))
    )
    assert not window.compare_with(make_bad(runs, tmp_path))
    box = window.findChild(QMessageBox)
    assert box is not None and box.isVisible()
    assert message in box.text()
    assert "same scenario from the same start" in box.informativeText()
    assert window.trends.reference is None
    box.close()


def _edited_table(runs: dict[str, Path], folder: Path, key: str, value: str) -> Path:
    lines = runs["base.csv"].read_text().splitlines(keepends=True)
    edited = [f"# {key}: {value}\n" if line.startswith(f"# {key}:") else line for line in lines]
    assert edited != lines
    path = folder / "edited.csv"
    path.write_text("".join(edited))
    return path


@pytest.mark.parametrize(
    ("make_bad", "message"),
    [
        (lambda runs, tmp: tmp / "missing", "{bad}: no such file"),
        (lambda runs, tmp: tmp, "{bad}: not a twin recording (no manifest.json)"),
        (lambda runs, tmp: _damaged_copy(runs, tmp, 0), "nothing is readable: part 1 of"),
        (
            lambda runs, tmp: _edited_table(runs, tmp, "scenario", "gigawatt"),
            "{bad} is a run of scenario gigawatt, fault.twinrec of single-rack",
        ),
        (
            lambda runs, tmp: _edited_table(runs, tmp, "start", "2027-01-01T00:00:00"),
            "{bad} is a run of start 2027-01-01T00:00:00",
        ),
    ],
)
def test_replay_compare_reports_what_cannot_be_compared(
    capsys, runs, tmp_path, monkeypatch, make_bad, message
) -> None:
    monkeypatch.setattr("twin.gui.app.run_gui", lambda *a, **k: pytest.fail("window opened"))
    bad = make_bad(runs, tmp_path)
    assert main(["replay", str(runs["fault"]), "--compare", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"twin replay: --compare {bad}")
    assert message.format(bad=bad) in err
    assert err.endswith(
        "it takes runs of the same scenario from the same start, as 'twin "
        "run' output tables (.csv, .parquet) or recording folders"
    )
    assert "Traceback" not in err


def _damaged_copy(runs: dict[str, Path], folder: Path, part: int) -> Path:
    import shutil

    copy = folder / "copy.twinrec"
    shutil.copytree(runs["base"], copy)
    damaged = copy / f"part-{part:05d}.parquet"
    damaged.write_bytes(damaged.read_bytes()[:200])
    return copy


def test_replay_compare_passes_the_reference_and_names_what_is_unreadable(
    capsys, runs, tmp_path, monkeypatch
) -> None:
    opened = {}

    def run_gui(scenario_file, simulation_for, **kwargs):
        opened.update(kwargs)
        return 0

    monkeypatch.setattr("twin.gui.app.run_gui", run_gui)
    parts = json.loads((runs["base"] / MANIFEST).read_text())["parts"]
    assert len(parts) >= 3
    truncated = _damaged_copy(runs, tmp_path, 2)  # a run cut short: the first parts compare
    assert main(["replay", str(runs["fault"]), "--compare", str(truncated)]) == 0
    reference = opened["reference"]
    assert reference.columns["time_s"][-1] == parts[1]["last_s"]
    err = capsys.readouterr().err
    assert f"twin replay: --compare {truncated}: part 3 of" in err and "is damaged" in err
    assert main(["replay", str(runs["fault"]), "--compare", str(runs["base.csv"])]) == 0
    np.testing.assert_array_equal(
        opened["reference"].columns["gpu_temp_max_c"],
        SiteSeries.read(runs["base.csv"]).columns["gpu_temp_max_c"],
    )


def test_a_replay_wears_a_badge_and_says_so_in_the_status_bar(make_window, qtbot, runs):
    window, _recording = _replay_window(make_window, qtbot, runs)
    assert window.replay_badge.text() == "REPLAY" and window.replay_badge.isVisible()
    qtbot.waitUntil(
        lambda: window.sim_label.text() == "replay of fault.twinrec · paused", timeout=30_000
    )
    assert "steps/s" not in window.sim_label.text()


def test_a_live_window_has_no_replay_badge(make_window):
    window = make_window("single-rack", running=False)
    assert window.replay_badge is None
    assert "replay" not in window.sim_label.text()
