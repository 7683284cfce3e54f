"""The main window fits a laptop's screen (1366x768, 1280x720) with every figure, the time
controls, the 3D view and the docks whole, and keeps its one-row KPI strip on a large
screen: the strip closes its gaps, then wraps into rows, rather than widening the window."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from twin.gui._qt.kpi_strip import MIN_TILE_GAP_PX, TILE_GAP_PX

pytestmark = pytest.mark.gui

LAPTOPS = [(1366, 768), (1280, 720)]


def _open(make_window, qtbot, size: tuple[int, int]):
    """A paused window of ``size`` showing its first snapshot in every panel."""
    from PySide6.QtCore import QSize

    window = make_window(running=False)
    window.resize(*size)
    qtbot.waitUntil(lambda: window.size() == QSize(*size), timeout=30_000)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    qtbot.waitUntil(
        lambda: all(label.text() != "—" for label in window.kpis.values.values()), timeout=30_000
    )
    qtbot.waitUntil(lambda: _assert_strip_whole(window), timeout=30_000)  # laid out again
    return window


def _in_window(window, widget):
    """The widget's rectangle in the window's coordinates."""
    from PySide6.QtCore import QPoint, QRect

    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def _assert_whole(window, widget, what: str) -> None:
    """Shown, at least as wide and high as its content asks, and inside the window."""
    assert widget.isVisible(), f"{what} is hidden"
    hint = widget.sizeHint().expandedTo(widget.minimumSize())
    assert widget.width() >= hint.width() and widget.height() >= hint.height(), (
        f"{what} is cut to {widget.size()}, its content needs {hint}"
    )
    rect = _in_window(window, widget)
    assert window.rect().contains(rect), f"{what} {rect} runs out of the window"


def _tiles(window) -> list:
    return [label.parentWidget() for label in window.kpis.values.values()]


def _assert_strip_whole(window) -> None:
    """Every figure and its title whole, inside the strip, and no two tiles overlap."""
    strip = _in_window(window, window.kpis)
    for key, value in window.kpis.values.items():
        _assert_whole(window, value, f"KPI {key}")
        _assert_whole(window, window.kpis._titles[key], f"KPI title {key}")
        assert strip.contains(_in_window(window, value)), key
    for a, b in itertools.combinations(_tiles(window), 2):
        assert not _in_window(window, a).intersects(_in_window(window, b))


@pytest.mark.parametrize("size", LAPTOPS)
def test_the_window_fits_a_laptop_screen_with_everything_whole(make_window, qtbot, size):
    from PySide6.QtWidgets import QDockWidget

    window = _open(make_window, qtbot, size)
    assert window.minimumSizeHint().width() <= size[0]
    assert window.minimumSizeHint().height() <= size[1]

    controls = window.time_controls
    for widget, what in (
        (controls.play_button, "play"),
        (controls.step_button, "step"),
        (controls.speed, "speed"),
        (controls.clock, "clock"),
        (window.color_panel.combo, "colour field"),
        (window.color_panel.bar, "colour bar"),
        (window.viewpoint_box, "viewpoints"),
    ):
        _assert_whole(window, widget, what)

    # the 3D view: a fair share of the window, clear of the strip and the docks, drawn
    view = _in_window(window, window.canvas.widget)
    assert window.rect().contains(view)
    assert view.width() >= 0.65 * size[0] and view.height() >= 0.35 * size[1], view
    docks = {dock.objectName(): dock for dock in window.findChildren(QDockWidget)}

    def assert_dock_whole(name: str) -> None:
        dock = docks[name]
        assert not dock.visibleRegion().isEmpty(), f"{name} is not in view"
        rect = _in_window(window, dock)
        assert rect.width() >= 250 and rect.height() >= 200, (name, rect)
        assert window.rect().contains(rect), (name, rect)
        assert not rect.intersects(view), (name, rect, view)

    for name in ("inspector", "trends"):
        assert_dock_whole(name)
    for name in ("alarms", "timeline"):  # tabs behind the trends, whole when raised
        assert docks[name].visibleRegion().isEmpty()
        docks[name].raise_()
        qtbot.waitUntil(lambda n=name: assert_dock_whole(n), timeout=30_000)
    for button in (window.alarm_panel.acknowledge_button, window.alarm_panel.shelve_button):
        assert button.visibleRegion().isEmpty()  # the alarms are behind the timeline now
    docks["alarms"].raise_()
    qtbot.waitUntil(lambda: window.alarm_panel.unshelve_button.isVisible(), timeout=30_000)
    for button in (
        window.alarm_panel.acknowledge_button,
        window.alarm_panel.acknowledge_all_button,
        window.alarm_panel.shelve_button,
        window.alarm_panel.unshelve_button,
    ):
        _assert_whole(window, button, button.text())
    assert not _in_window(window, window.kpis).intersects(view)
    container = window.canvas.widget
    qtbot.waitUntil(
        lambda: window.canvas.canvas.size == (container.width(), container.height()), timeout=30_000
    )
    image = window.canvas.render()
    assert image.reshape(-1, image.shape[2]).std(axis=0).max() > 10  # the site, not a blank


def test_a_wider_figure_wraps_the_strip_instead_of_widening_the_window(make_window, qtbot):
    """A battery charging hard and racks tripped lengthen their figures: the strip takes
    another row, and gives it back once they are back to what they were."""
    window = _open(make_window, qtbot, (1600, 900))
    assert len({tile.y() for tile in _tiles(window)}) == 1
    minimum = window.minimumSizeHint().width()
    snapshot = window.snapshot
    window.show_frame(
        dataclasses.replace(
            window.frame,
            snapshot=dataclasses.replace(
                snapshot,
                site=dict(
                    snapshot.site,
                    throttled_gpus=8640.0,
                    tripped_racks=120.0,
                    bess_power_kw=-123_456.0,
                ),
            ),
        )
    )
    tripped, bess = window.kpis.values["tripped"], window.kpis.values["bess"]
    qtbot.waitUntil(lambda: tripped.text() == "120", timeout=30_000)
    assert bess.text().endswith("charging 123.5 MW")
    qtbot.waitUntil(lambda: len({tile.y() for tile in _tiles(window)}) > 1, timeout=30_000)
    qtbot.waitUntil(lambda: _assert_strip_whole(window), timeout=30_000)
    assert window.width() == 1600
    assert window.minimumSizeHint().width() == minimum
    one_row = _in_window(window, window.canvas.widget)

    window.show_frame(dataclasses.replace(window.frame, snapshot=snapshot))
    qtbot.waitUntil(lambda: tripped.text() == "0", timeout=30_000)
    qtbot.waitUntil(lambda: len({tile.y() for tile in _tiles(window)}) == 1, timeout=30_000)
    qtbot.waitUntil(
        lambda: _in_window(window, window.canvas.widget).height() > one_row.height(), timeout=30_000
    )  # the 3D view has the room again


def test_the_strip_is_one_row_on_a_large_screen_and_aligned_rows_on_a_small_one(make_window, qtbot):
    window = _open(make_window, qtbot, (1600, 1000))
    tiles = _tiles(window)
    assert len({tile.y() for tile in tiles}) == 1
    gaps = [b.x() - (a.x() + a.width()) for a, b in itertools.pairwise(tiles)]
    assert gaps == [TILE_GAP_PX] * len(gaps)  # the strip as it has always looked
    one_row = window.kpis.height()

    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=30_000)
    qtbot.waitUntil(lambda: len({tile.y() for tile in tiles}) > 1, timeout=30_000)
    qtbot.waitUntil(lambda: _assert_strip_whole(window), timeout=30_000)
    rows = sorted({tile.y() for tile in tiles})
    per_row = [[tile for tile in tiles if tile.y() == y] for y in rows]
    assert len(per_row[0]) >= len(per_row[-1])  # the last row may be shorter
    columns = [tile.x() for tile in per_row[0]]
    for row in per_row[1:]:
        assert [tile.x() for tile in row] == columns[: len(row)]  # in columns
    for row in per_row:
        gaps = [b.x() - (a.x() + a.width()) for a, b in itertools.pairwise(row)]
        assert all(MIN_TILE_GAP_PX <= gap <= TILE_GAP_PX for gap in gaps), gaps
    assert window.kpis.height() > one_row


@pytest.mark.parametrize(
    ("screen", "expected"),
    [
        ((1366, 728), (1350, 680)),  # a laptop, less its task bar: the room left by the frame
        ((1920, 1040), (1440, 900)),
    ],
)
def test_the_window_opens_no_larger_than_the_screen(
    make_window, qtbot, tmp_path, monkeypatch, screen, expected
):
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QScreen

    from twin.settings import Settings

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # the settings saved on close
    monkeypatch.setattr(QScreen, "availableGeometry", lambda _screen: QRect(0, 0, *screen))
    window = make_window(running=False, settings=Settings())  # nothing saved to restore
    assert (window.width(), window.height()) == expected


def test_figures_stay_put_as_the_digits_beside_them_change(make_window, qtbot):
    window = _open(make_window, qtbot, (1366, 768))
    tiles = _tiles(window)
    where = [tile.x() for tile in tiles]
    snapshot = window.snapshot
    it = window.kpis.values["it"]
    window.show_frame(
        dataclasses.replace(
            window.frame,
            snapshot=dataclasses.replace(snapshot, site=dict(snapshot.site, it_power_kw=9_100.0)),
        )
    )  # "40.3 MW" to "9.1 MW"
    qtbot.waitUntil(lambda: it.text() == "9.1 MW", timeout=30_000)
    qtbot.wait(100)  # laid out again, were it to move
    assert [tile.x() for tile in tiles] == where
