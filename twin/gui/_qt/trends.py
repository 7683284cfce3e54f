"""The trend panel: stacked plots of site figures and of the selected object against
simulated time, with a crosshair read-out and export to PNG and CSV.

The history itself (every series at three time scales, in fixed memory) is the Qt-free
``twin.gui.trend_history``; the plots shown are its ``SITE_PLOTS``.

The plots share the panel's height down to a minimum each (``MIN_PLOT_HEIGHT_PX``); below
that the panel scrolls rather than squeezing them, and while the time axis under the
lowest plot is scrolled out of view a copy of it stays pinned along the bottom of the
visible plots, over the plot there. Each plot has a header row above its data: a caption
at the left naming it with the unit of its axis (instead of a title up the axis, which
would run into the plots above and below in a low dock) and its legend at the right, so
that neither covers a curve. Clicking the caption collapses the plot to its header, and
clicking again opens it; the plots collapsed are kept in the settings. Value axes label
only ticks far enough apart to read, and keep their labels off the plots beside them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import CSVExporter, ImageExporter
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPoint, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QFontMetricsF, QImageWriter, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from twin.gui._qt.kpi_comparison import KpiComparisonTable
from twin.gui._qt.theme import DARK, Theme
from twin.gui.trend_history import (
    SITE_PLOTS,
    TIME_WINDOWS,
    SelectionSeries,
    TrendHistory,
    TrendPlot,
    TrendSeries,
)
from twin.gui.trend_marks import CHECKPOINTS_DRAWN_MAX, CheckpointSchedule, TrendLimit
from twin.gui.units import UnitSystem, conversion, difference_conversion
from twin.runs.replay import SiteLog, SiteSeries, compare
from twin.sim.snapshot import Snapshot

REDRAW_INTERVAL_MS = 250
"""New data is drawn at 4 Hz: minute-scale trends still move smoothly, and each redraw (a
few ms of software rendering) stays off most of the 3D view's frames."""
INTERACTIVE_REDRAW_MS = 30  # after a pan or zoom, the bins newly in view follow at once
AXIS_WIDTH_PX = 72  # one width for every left axis, so that the stacked plots line up in time
QWIDGETSIZE_MAX = 16_777_215  # Qt's "no maximum" for a layout item's size
MIN_PLOT_HEIGHT_PX = 48
MIN_Y_SPAN_FRACTION = 0.01  # of the largest value shown: the value axis spans at least this
MIN_Y_SPAN = 1e-6  # and never nothing (a series of zeros)
"""The least height of a plot's data area: its caption and a few labelled values. Three
plots fit the default trend dock (the window's 330 px) above the time axis; more scroll."""
HEADER_MARGIN_PX = 2  # above and below a plot's caption and legend, in its header row
COLLAPSED = "▸"  # before a collapsed plot's caption; an open one has OPEN
OPEN = "▾"
PLOT_GAP_PX = 4  # between stacked plots: half of it is room for a value label at the edge
LEGEND_CLEARANCE_PX = 16  # between a plot's caption and its legend, and their margins
TICK_PITCH_LINES = 1.2  # labelled value ticks this many lines of text apart, or at least one
BAND_SHARE = 0.35  # of a series' colour in its band's (the rest the background's)
LIMIT_LABEL_POSITIONS = (0.3, 0.55, 0.8)  # of a plot's width, where limit lines are named
LIMIT_REACH_SPREAD = 0.25  # limits this far beyond the values shown, of their spread, in range
LIMIT_REACH_FRACTION = 0.1  # and a steady value's limits this far from it
SELECTION_KEY = "selection"
CHECKPOINT_PLOTS = ("power", "tokens")  # where a checkpoint's dip shows
CHECKPOINT_ALPHA = 40  # of 255: a checkpoint's span, behind the curves
SELECTION_ROWS = 8  # layout rows kept above the site plots for the selection, one per unit

_CURVE_COLORS = {
    "light": ("#1f6fd1", "#e07b00", "#2a9d57", "#8e44ad", "#00897b", "#c2185b"),
    "dark": ("#5aa9ff", "#ffb74d", "#66d18f", "#c792ea", "#4dd0e1", "#f48fb1"),
}


class ExportError(Exception):
    """An export could not be written; the message says where and why."""


# --------------------------------------------------------------------------- plots


class SimulatedTimeAxis(pg.DateAxisItem):
    """Date and time ticks for x in simulated seconds since the scenario start."""

    def __init__(self, start: datetime, **kwargs) -> None:
        super().__init__(orientation="bottom", utcOffset=0, **kwargs)
        # The start is the site's civil time; read it as UTC so the ticks show it unshifted.
        self._origin_s = start.replace(tzinfo=UTC).timestamp()

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        origin = self._origin_s
        levels = super().tickValues(minVal + origin, maxVal + origin, size)
        return [(spacing, [value - origin for value in values]) for spacing, values in levels]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return super().tickStrings([value + self._origin_s for value in values], scale, spacing)


class CaptionItem(pg.TextItem):
    """A plot's caption: clicking it collapses or opens the plot (``on_click``)."""

    def __init__(self) -> None:
        super().__init__(anchor=(0, 0))
        self.on_click: Callable[[], None] = lambda: None
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(QCoreApplication.translate("trends", "Click to collapse or open this plot"))

    def mouseClickEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            event.accept()
            self.on_click()


class ValueAxis(pg.AxisItem):
    """The left axis of a plot: values only (the plot's caption names them), labelled on
    major ticks ``TICK_PITCH_LINES`` lines of text apart, or one line where that leaves
    fewer than two labels, and never further past the plot's top and bottom than half the
    gap to the plots beside it."""

    def __init__(self) -> None:
        super().__init__("left")
        self.enableAutoSIPrefix(False)  # the plot scales the ticks along with its caption
        self.setStyle(hideOverlappingLabels=PLOT_GAP_PX // 2, maxTextLevel=0)
        self.setWidth(AXIS_WIDTH_PX)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:
        result = super().itemChange(change, value)
        if change == QGraphicsItem.GraphicsItemChange.ItemVisibleHasChanged and value:
            # pyqtgraph sizes an axis to nothing while its plot is hidden: size it again
            self.setWidth(AXIS_WIDTH_PX)
        return result

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list:
        levels = super().tickSpacing(minVal, maxVal, size)
        low, high = sorted((minVal, maxVal))
        if not levels or size <= 0 or high == low:
            return levels
        line_px = QFontMetricsF(self.style["tickFont"] or self.font()).height()
        px = size / (high - low)  # pixels per unit
        major = levels[0][0]
        while major * px < line_px:
            major = _wider_step(major)
        if major * px < TICK_PITCH_LINES * line_px:
            # pyqtgraph measures a label as 0.8 of a line high and lets it overhang the axis
            overhang = (0.4 * line_px - PLOT_GAP_PX // 2) / px
            wider = _wider_step(major)
            first, last = math.ceil((low + overhang) / wider), math.floor((high - overhang) / wider)
            if last > first:  # two labels or more
                major = wider
        return [(major, 0.0), *(level for level in levels[1:] if level[0] < major)]


def _wider_step(step: float) -> float:
    """The next tick step of 1, 2 or 5 times a power of ten above ``step``."""
    power = 10.0 ** math.floor(math.log10(step))
    for factor in (2.0, 5.0):
        if factor * power > step * (1 + 1e-9):
            return factor * power
    return 10.0 * power


class PinnedTimeAxis(pg.GraphicsView):
    """A copy of the plots' time axis that ``TrendPanel`` lays over the bottom of the
    visible plots while theirs is scrolled out of view. The mouse goes through it to the
    plots under it."""

    def __init__(self, start: datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.axis = SimulatedTimeAxis(start)
        self.addItem(self.axis)
        self.hide()

    def show_like(self, axis: pg.AxisItem, left_px: float) -> None:
        """Draw the range of ``axis`` as wide and high as it is, from ``left_px``, at the
        bottom of this view (its ticks reach up into the plot above it, as the axis'
        do)."""
        width, height = axis.geometry().width(), axis.geometry().height()
        self.axis.setHeight(height)
        self.axis.setGeometry(QRectF(left_px, self.height() - height, width, height))
        self.axis.setRange(*axis.range)

    def apply_theme(self, theme: Theme) -> None:
        self.setBackground(theme.base)
        self.axis.setPen(theme.muted)
        self.axis.setTextPen(theme.text)


def _format(
    low: float, high: float, unit: str, decimals: int | None, si_prefix: bool, signed: bool = False
) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "—"
    scale, prefix = pg.siScale(max(abs(low), abs(high))) if si_prefix else (1.0, "")
    low, high = low * scale, high * scale
    if decimals is None:
        magnitude = max(abs(low), abs(high))
        decimals = 0 if magnitude >= 100 else 1 if magnitude >= 10 else 2
    sign = "+" if signed else ""
    text = f"{low:{sign},.{decimals}f}"
    high_text = f"{high:{sign},.{decimals}f}"
    if high_text != text:  # the bin under the cursor spans a range: show it, not one value
        text = f"{text}–{high_text}"
    return f"{text} {prefix}{unit}".rstrip()


def _dark(theme: Theme) -> bool:
    return QColor(theme.base).lightness() < 128


def _related(color: str, dark: bool) -> QColor:
    """A colour of the same hue, set apart for a reference run's curve: paler on a dark
    background, deeper on a light one."""
    qcolor = QColor(color)
    return qcolor.lighter(150) if dark else qcolor.darker(150)


def _tr(text: str) -> str:
    """A plot's or series' name in the interface's language (context ``trends``); exports
    keep the English names, as column names."""
    return QCoreApplication.translate("trends", text)


def _blend(color: str, background: str, share: float) -> QColor:
    """``share`` of ``color`` over ``background``, opaque."""
    front, back = QColor(color), QColor(background)
    return QColor.fromRgbF(
        share * front.redF() + (1 - share) * back.redF(),
        share * front.greenF() + (1 - share) * back.greenF(),
        share * front.blueF() + (1 - share) * back.blueF(),
    )


def _translucent(color: str, alpha: int) -> QColor:
    qcolor = QColor(color)
    qcolor.setAlpha(alpha)
    return qcolor


def _whole(item: pg.PlotDataItem) -> pg.PlotDataItem:
    """``item`` drawn from all its points: peak downsampling, right for a curve of
    interleaved minima and maxima, would zigzag a line through minima only."""
    item.setDownsampling(ds=1, auto=False)
    item.setClipToView(False)
    return item


class TrendView:
    """One plot of the panel: the curves of a ``TrendPlot`` over rows of a history, with
    a crosshair line and a read-out of the values under it. A reference run (another run
    to compare with) is drawn dashed beside the site series, or subtracted from them in
    the difference view. ``configure`` turns the plot into another one, reusing its
    items, as changing the selection does. The history and the reference hold SI values;
    they are converted to the display ``units`` as they are drawn."""

    def __init__(
        self,
        spec: TrendPlot,
        history: TrendHistory,
        rows: Iterable[int],
        start: datetime,
        title: str = "",
        units: UnitSystem = UnitSystem.SI,
    ) -> None:
        self.history = history
        self.units = units
        self.plot = pg.PlotItem(axisItems={"bottom": SimulatedTimeAxis(start), "left": ValueAxis()})
        plot = self.plot
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        plot.hideButtons()
        plot.setMouseEnabled(x=True, y=False)  # y always fits the data in view
        plot.enableAutoRange(y=True)
        plot.setAutoVisible(y=True)
        # No grid: pyqtgraph replays it through a QPicture per axis, which under software
        # rendering costs ten times the rest of the plot.
        viewbox = plot.getViewBox()
        viewbox.setMinimumHeight(MIN_PLOT_HEIGHT_PX)
        # what the plot shows and in which unit, at the left of its header row (the
        # plot's title row, above the data), and its legend at the right
        self.collapsed = False
        self.caption = CaptionItem()
        self.caption.setParentItem(plot)
        self.caption.setPos(0, 0)  # its text item's own margin pads it
        self._captioned: tuple[str, float, str] = ("", 1.0, "")  # caption, scale, colour
        self._header_px = 0.0
        # entries are added by ``_fill_legend``; hidden while it has none
        self.legend = plot.addLegend(labelTextSize="8pt", verSpacing=-6)
        self.legend.setParentItem(plot)
        self.legend.layout.setContentsMargins(0, 0, 0, 0)  # in the header: no frame to pad
        self.legend.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=(-2, HEADER_MARGIN_PX))
        # Each curve holds its bins' minima and maxima interleaved, drawn as one upright
        # stroke per bin (``connect="pairs"``), and its envelope: the line through the
        # minima and the line through the maxima, both faint; over them, solid, the line
        # through the bins' means. A swing faster than a bin (training's square wave)
        # reads as a faint band with its mean across it, not as a block of strokes or a
        # saw-tooth from each bin's maximum to the next one's minimum; a steady value's
        # band closes onto its mean.
        self.curves: list[pg.PlotDataItem] = []
        self.envelopes: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self.means: list[pg.PlotDataItem] = []
        self.reference_curves: list[pg.PlotDataItem | None] = []
        self._reference_data: list[tuple[np.ndarray, np.ndarray] | None] = []
        # legend samples naming the two runs: solid for this one, dashed for the reference
        self._run_samples = (pg.PlotDataItem(), pg.PlotDataItem())
        self._run_names = ("", "")
        self.difference = False
        self.line = pg.InfiniteLine(angle=90, movable=False)
        self.line.hide()
        plot.addItem(self.line, ignoreBounds=True)
        # The read-out lives in the view box's pixels, not in data coordinates, so that it
        # stays at the top whatever the y range (which pyqtgraph updates only when painting).
        self.readout = pg.TextItem(anchor=(0, 0))
        self.readout.hide()
        self.readout.setParentItem(plot.getViewBox())
        self.readout.setZValue(1)  # above the legend
        self._colors: list[str] = []
        self._text_color = ""
        self._theme: Theme | None = None
        # limit lines, and an invisible curve at their values that keeps them in the value
        # axis's range (a line itself would stretch the time axis to infinity)
        self.limits: list[tuple[TrendLimit, pg.InfiniteLine]] = []
        self._limit_bounds = pg.PlotDataItem(pen=pg.mkPen((0, 0, 0, 0)))
        plot.addItem(self._limit_bounds)
        _whole(self._limit_bounds)
        self._shown_range = (math.inf, -math.inf)  # lowest and highest value drawn
        self.event_lines: list[pg.InfiniteLine] = []
        self._events_labelled = False
        self.checkpoint_spans: list[pg.LinearRegionItem] = []  # a pool: shown as needed
        self.configure(spec, rows, title)
        viewbox.sigYRangeChanged.connect(lambda _viewbox, _range: self._label_axis())
        viewbox.sigResized.connect(lambda _viewbox: self._fit_legend())

    def set_collapsed(self, collapsed: bool) -> None:
        """Show the plot as its header row only, or whole."""
        if collapsed == self.collapsed:
            return
        self.collapsed = collapsed
        plot, viewbox = self.plot, self.plot.getViewBox()
        viewbox.setVisible(not collapsed)
        viewbox.setMinimumHeight(0 if collapsed else MIN_PLOT_HEIGHT_PX)
        viewbox.setMaximumHeight(0 if collapsed else QWIDGETSIZE_MAX)
        plot.showAxis("left", not collapsed)
        if collapsed:
            plot.showAxis("bottom", False)
            self.hide_readout()
        plot.setMaximumHeight(self._header_px if collapsed else QWIDGETSIZE_MAX)
        self._captioned = ("", 1.0, "")  # the caption's marker changes
        self._label_axis()
        self._fill_legend()

    def configure(self, spec: TrendPlot, rows: Iterable[int], title: str = "") -> None:
        """Show ``spec`` from ``rows`` of the history, keeping the curves it can reuse."""
        self.spec = spec
        self.rows = tuple(rows)
        self.title = title
        self._shown = conversion(spec.unit, self.units)
        self._shown_difference = difference_conversion(spec.unit, self.units)
        plot = self.plot
        while len(self.curves) < len(spec.series):
            self.curves.append(plot.plot(connect="pairs"))
            self.envelopes.append((_whole(plot.plot()), _whole(plot.plot())))
            self.means.append(_whole(plot.plot()))
            self.means[-1].setZValue(1)  # every mean over every band
        count = len(spec.series)
        for curve, edges, mean in zip(
            self.curves[count:], self.envelopes[count:], self.means[count:], strict=True
        ):
            for item in (curve, *edges, mean):
                plot.removeItem(item)
        del self.curves[count:]
        del self.envelopes[count:]
        del self.means[count:]
        self.set_reference(None)  # labels the axis, colours the curves, fills the legend

    @property
    def has_reference(self) -> bool:
        return any(curve is not None for curve in self.reference_curves)

    def set_reference(
        self,
        times: np.ndarray | None,
        columns: dict[str, np.ndarray] | None = None,
        names: tuple[str, str] = ("", ""),
    ) -> None:
        """Draw a reference run's values of the site series (``columns`` by site column,
        at ``times``) as dashed curves, and name both runs in the legend; None removes
        them."""
        for curve in self.reference_curves:
            if curve is not None:
                self.plot.removeItem(curve)
        self.reference_curves, self._reference_data = [], []
        self._run_names = names
        if times is not None and columns is not None:
            for series in self.spec.series:
                values = columns.get(series.column) if series.column else None
                if values is None:
                    self.reference_curves.append(None)
                    self._reference_data.append(None)
                    continue
                data = (times, values * series.scale)
                curve = pg.PlotDataItem(times, self._shown.to_display(data[1]))
                curve.setZValue(-1)  # under this run's curve
                self.plot.addItem(curve)
                self.reference_curves.append(curve)
                self._reference_data.append(data)
        self.set_difference(self.difference)
        self._style_curves()
        self._fill_legend()

    def set_difference(self, difference: bool) -> None:
        """Show this run minus the reference (A − B) instead of both runs' curves."""
        self.difference = difference
        for curve in self.reference_curves:
            if curve is not None:
                curve.setVisible(not difference)
        shown = not (difference and self.has_reference)  # a difference has no limits
        for _limit, line in self.limits:
            line.setVisible(shown)
        self._limit_bounds.setVisible(shown)
        self._label_axis()

    def set_units(self, units: UnitSystem) -> None:
        """Draw in ``units`` from the next ``set_data`` (the reference at once)."""
        self.units = units
        self._shown = conversion(self.spec.unit, units)
        self._shown_difference = difference_conversion(self.spec.unit, units)
        for curve, data in zip(self.reference_curves, self._reference_data, strict=True):
            if curve is not None and data is not None:  # both or neither
                curve.setData(data[0], self._shown.to_display(data[1]))
        self._place_limits()
        self._label_axis()

    def set_limits(self, limits: Iterable[TrendLimit]) -> None:
        """Draw ``limits`` (in the plot's unit, SI) as dashed lines across the plot, named
        above the line: trips in the alarm colour, the others muted."""
        for _limit, line in self.limits:
            self.plot.removeItem(line)
        self.limits = []
        for k, limit in enumerate(limits):
            # names staggered across the width, so that close limits' names do not overlap
            line = pg.InfiniteLine(
                angle=0,
                movable=False,
                label=limit.label,
                labelOpts={
                    "position": LIMIT_LABEL_POSITIONS[k % len(LIMIT_LABEL_POSITIONS)],
                    "anchors": [(0.5, 1), (0.5, 1)],
                },
            )
            line.setZValue(-2)  # under the curves
            self.plot.addItem(line, ignoreBounds=True)
            self.limits.append((limit, line))
        self._place_limits()
        self._style_limits()
        self.set_difference(self.difference)

    def _place_limits(self) -> None:
        for limit, line in self.limits:
            line.setValue(float(self._shown.to_display(limit.value)))
        self._bound_limits()

    def _bound_limits(
        self, x: np.ndarray | None = None, shown: tuple[float, float] | None = None
    ) -> None:
        """Keep in the value axis's range the limits near the values ``shown`` (lowest,
        highest): within a quarter of their spread of them, so that a limit a value nears
        comes into view, but a trip far above a cool plant does not flatten its curves in a
        low plot."""
        if x is None or not len(x):
            x = self._limit_bounds.xData if self._limit_bounds.xData is not None else np.zeros(1)
        if shown is None:
            shown = self._shown_range
        self._shown_range = shown
        low, high = shown
        reach = max(
            LIMIT_REACH_SPREAD * (high - low),
            LIMIT_REACH_FRACTION * max(abs(low), abs(high)),
            MIN_Y_SPAN,
        )
        values = [
            line.value()
            for _limit, line in self.limits
            if low - reach <= line.value() <= high + reach
        ]
        if not values:
            self._limit_bounds.setData([], [])
            return
        left, right = float(np.min(x)), float(np.max(x))
        # times in order: the plot clips its curves to the view by searching them
        self._limit_bounds.setData(np.repeat([left, right], len(values)), values * 2)

    def _style_limits(self) -> None:
        theme = self._theme
        if theme is None:
            return
        for limit, line in self.limits:
            color = theme.alarm if limit.trip else theme.muted
            line.setPen(pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine))
            line.label.setColor(color)

    def set_events(self, markers: list[tuple[float, str]], labelled: bool) -> None:
        """Mark events at their times with a dotted vertical line each, named when
        ``labelled`` (the top plot only, so that the names are not repeated)."""
        keep = len(markers) if labelled == self._events_labelled else 0
        self._events_labelled = labelled
        for line in self.event_lines[keep:]:
            self.plot.removeItem(line)
        del self.event_lines[keep:]
        for time_s, label in markers[len(self.event_lines) :]:
            line = pg.InfiniteLine(
                pos=time_s,
                angle=90,
                movable=False,
                label=label if labelled else None,
                labelOpts={"position": 0.97, "anchors": [(0, 0), (0, 0)]},
            )
            line.setToolTip(label)
            line.setZValue(-2)
            self.plot.addItem(line, ignoreBounds=True)
            self.event_lines.append(line)
        self._style_events()

    def set_checkpoints(self, spans: list[tuple[float, float, str]]) -> None:
        """Shade the checkpoints (start, end, job) in view, behind the curves."""
        while len(self.checkpoint_spans) < len(spans):
            region = pg.LinearRegionItem(movable=False, pen=pg.mkPen(None))
            region.setZValue(-3)
            self.plot.addItem(region, ignoreBounds=True)
            self.checkpoint_spans.append(region)
            self._style_checkpoints()
        for k, region in enumerate(self.checkpoint_spans):
            if k < len(spans):
                start, end, job = spans[k]
                region.setRegion((start, end))
                region.setToolTip(f"checkpoint of {job}")
            region.setVisible(k < len(spans))

    def _style_checkpoints(self) -> None:
        if self._theme is None:
            return
        for region in self.checkpoint_spans:
            region.setBrush(pg.mkBrush(_translucent(self._theme.accent, CHECKPOINT_ALPHA)))

    def _style_events(self) -> None:
        theme = self._theme
        if theme is None:
            return
        for line in self.event_lines:
            line.setPen(pg.mkPen(theme.accent, width=1, style=Qt.PenStyle.DotLine))
            if getattr(line, "label", None) is not None:  # pyqtgraph adds it only when named
                line.label.setColor(theme.accent)

    def set_data(self, x: np.ndarray, y: np.ndarray, means: np.ndarray | None = None) -> None:
        """Draw bins: ``x`` their times and ``y`` their minima and maxima interleaved
        (``TrendHistory.window``), ``means`` their means (``TrendHistory.means``; without
        them, the middle of each bin's range)."""
        difference = self.difference and self.has_reference
        largest = 0.0
        lowest, highest = math.inf, -math.inf
        times = x[0::2]
        for k, (curve, row) in enumerate(zip(self.curves, self.rows, strict=True)):
            low, high = self.envelopes[k]
            mean = (y[row][0::2] + y[row][1::2]) / 2 if means is None else means[row]
            if not difference:
                values = self._shown.to_display(y[row])
                average = self._shown.to_display(mean)
            elif (reference := self._reference_at(k)) is None:
                for item in (curve, low, high, self.means[k]):  # nothing to subtract
                    item.setData([], [])
                continue
            else:
                other = np.interp(times, *reference, left=np.nan, right=np.nan)
                values = self._shown_difference.to_display(y[row] - np.repeat(other, 2))
                average = self._shown_difference.to_display(mean - other)
            curve.setData(x, values, connect="pairs")
            low.setData(times, values[0::2])
            high.setData(x[1::2], values[1::2])
            # a limit (the import cap) is a line of its own, not a mean
            self.means[k].setData([] if self.spec.series[k].limit else times, average)
            finite = values[np.isfinite(values)]
            if finite.size:
                largest = max(largest, float(np.abs(finite).max()))
                lowest, highest = (
                    min(lowest, float(finite.min())),
                    max(highest, float(finite.max())),
                )
        if self.limits and len(x):
            self._bound_limits(x, (lowest, highest))
        # A steady value is drawn flat: the value axis spans at least a percent of the
        # largest value shown, not the last digits' jitter (189.7852 .. 189.7856 L/min).
        # Set again only when it must grow, or shrinks by a tenth: each setting lays out
        # the view.
        span = max(MIN_Y_SPAN_FRACTION * largest, MIN_Y_SPAN)
        viewbox = self.plot.getViewBox()
        current = viewbox.state["limits"]["yRange"][0]
        if current is None or span > current or span < 0.9 * current:
            viewbox.setLimits(minYRange=span)

    def clear_data(self) -> None:
        for curve, edges, mean in zip(self.curves, self.envelopes, self.means, strict=True):
            for item in (curve, *edges, mean):
                item.setData([], [])

    def show_readout(
        self, time_s: float, bins: tuple[float, np.ndarray, np.ndarray] | None
    ) -> None:
        """The values of the bin nearest ``time_s`` (``TrendHistory.at``) and, with a
        reference, the reference run's value at that bin's time and the difference."""
        spec, shown, apart = self.spec, self._shown, self._shown_difference
        lines = []
        for k, (series, row, color) in enumerate(
            zip(spec.series, self.rows, self._colors, strict=True)
        ):
            low = high = math.nan
            if bins is not None:
                low, high = float(bins[1][row]), float(bins[2][row])
            style = (spec.decimals, spec.si_prefix)
            text = (
                "—"
                if bins is None
                else _format(shown.to_display(low), shown.to_display(high), shown.unit, *style)
            )
            line = f'<span style="color:{color}">■</span> {_tr(series.label)} {text}'
            reference = self._reference_at(k)
            if reference is not None:
                at_s = time_s if bins is None else bins[0]
                other = float(np.interp(at_s, *reference, left=np.nan, right=np.nan))
                difference = _format(
                    apart.to_display(low - other),
                    apart.to_display(high - other),
                    apart.unit,
                    *style,
                    signed=True,
                )
                b = shown.to_display(other)
                line += f" · B {_format(b, b, shown.unit, *style)} · A − B {difference}"
            lines.append(line)
        self.readout.setHtml(
            f'<div style="color:{self._text_color}; font-size:8pt">' + "<br>".join(lines) + "</div>"
        )
        viewbox = self.plot.getViewBox()
        x = viewbox.mapFromView(QPointF(time_s, 0.0)).x()
        # Keep the read-out inside the plot: right of the line in the left half, else left.
        right_of_line = x < viewbox.width() / 2
        self.readout.setAnchor((0, 0) if right_of_line else (1, 0))
        self.readout.setPos(x + 6 if right_of_line else x - 6, 2)
        self.line.setValue(time_s)
        self.line.show()
        self.readout.show()

    def hide_readout(self) -> None:
        self.line.hide()
        self.readout.hide()

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._style_curves()
        for sample, style in zip(
            self._run_samples, (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine), strict=True
        ):
            sample.setPen(pg.mkPen(theme.text, width=1, style=style))
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(theme.muted)
            axis.setTextPen(theme.text)
        self.legend.setLabelTextColor(theme.text)
        self._fill_legend()  # labels take the text colour when they are made
        self.line.setPen(pg.mkPen(theme.accent, width=1))
        self.readout.fill = pg.mkBrush(_translucent(theme.panel, 225))
        self.readout.border = pg.mkPen(theme.border)
        self._text_color = theme.text
        self.readout.update()
        self._style_limits()
        self._style_events()
        self._style_checkpoints()
        self._label_axis()

    def _style_curves(self) -> None:
        """Pens of this run's curves from the theme's palette, and of the reference's."""
        theme = self._theme
        if theme is None:
            return
        palette = _CURVE_COLORS["dark" if _dark(theme) else "light"]
        self._colors = []
        for k, (curve, series) in enumerate(zip(self.curves, self.spec.series, strict=True)):
            if series.limit:
                color = theme.alarm
                pen = band = pg.mkPen(theme.alarm, width=1, style=Qt.PenStyle.DashLine)
            else:
                color = palette[k % len(palette)]
                pen = pg.mkPen(color, width=1)  # wider pens take the slow path in Qt's raster
                # opaque: strokes of many bins to a pixel do not add up to the full colour
                band = pg.mkPen(_blend(color, theme.base, BAND_SHARE), width=1)
            curve.setPen(band)
            for edge in self.envelopes[k]:
                edge.setPen(band)
            self.means[k].setPen(pen)
            self._colors.append(color)
            reference = self.reference_curves[k] if self.reference_curves else None
            if reference is not None:
                reference.setPen(
                    pg.mkPen(_related(color, _dark(theme)), width=1, style=Qt.PenStyle.DashLine)
                )

    def exported(self, left_s: float, right_s: float) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """The curves drawn, as (column name, times, values in the display unit), each of
        this run's series followed by the reference run's: the reference's rows between
        two times and one more on each side, as this run's bins run to the edges of the
        view. Empty curves are left out; ``TrendPanel.export_csv`` tells the names."""
        unit = f" [{self.axis_unit}]" if self.axis_unit else ""
        comparing, difference = self.has_reference, self.difference and self.has_reference
        run_a, run_b = (
            f"{run}: {name}" if name else run
            for run, name in zip("AB", self._run_names, strict=True)
        )
        which = " (A − B)" if difference else f" ({run_a})" if comparing else ""
        columns = []
        for k, (curve, series) in enumerate(zip(self.curves, self.spec.series, strict=True)):
            x, y = curve.getOriginalDataset()
            if x is not None and len(x) > 0:
                columns.append((f"{series.label}{which}{unit}", np.array(x), np.array(y)))
            reference = self._reference_at(k)
            if reference is None or difference:
                continue
            times, values = reference
            first = max(int(np.searchsorted(times, left_s)) - 1, 0)
            last = min(int(np.searchsorted(times, right_s, side="right")) + 1, len(times))
            if first < last:
                columns.append(
                    (
                        f"{series.label} ({run_b}){unit}",
                        np.array(times[first:last]),
                        np.array(self._shown.to_display(values[first:last])),
                    )
                )
        return columns

    @property
    def axis_unit(self) -> str:
        """The unit of what is drawn: the display unit, of a difference in A − B."""
        if self.difference and self.has_reference:
            return self._shown_difference.unit
        return self._shown.unit

    def _reference_at(self, k: int) -> tuple[np.ndarray, np.ndarray] | None:
        return self._reference_data[k] if self._reference_data else None

    def _label_axis(self) -> None:
        """Name what is drawn in the caption, with the unit of the axis (SI-prefixed to
        suit the values in view where the plot asks for it). The axis keeps the title and
        unit as its label, not shown."""
        title = self.title or _tr(self.spec.title)
        if self.difference and self.has_reference:
            title += " A − B"
        unit = self.axis_unit
        scale, prefix = 1.0, ""
        if self.spec.si_prefix:
            low, high = self.plot.getViewBox().viewRange()[1]
            scale, prefix = pg.siScale(max(abs(low), abs(high)))
        caption = f"{title} ({prefix}{unit})" if unit else title
        caption = f"{COLLAPSED if self.collapsed else OPEN} {caption}"
        color = self._theme.text if self._theme is not None else ""
        if (caption, scale, color) == self._captioned:
            return  # the y range moved within the same prefix, as it does at each redraw
        self._captioned = (caption, scale, color)
        axis = self.plot.getAxis("left")
        axis.setLabel(title, units=unit or None)
        axis.showLabel(False)
        axis.setScale(scale)
        self.caption.setHtml(
            f'<div style="color:{color}; font-size:9pt">{html.escape(caption)}</div>'
        )
        self._fit_legend()

    def _fill_legend(self) -> None:
        """Series labels when there are several; the runs' names when comparing."""
        entries: list[tuple[pg.PlotDataItem, str]] = []
        if len(self.spec.series) > 1:
            entries += zip(
                self.means, (_tr(series.label) for series in self.spec.series), strict=True
            )
        if self.has_reference:
            entries += zip(self._run_samples, self._run_names, strict=True)
        legend = self.legend
        legend.clear()
        for item, name in entries:
            legend.addItem(item, name)
        legend.setVisible(bool(entries) and not self.collapsed)  # a collapsed plot: its name
        self._fit_legend()

    def _fit_legend(self) -> None:
        """As many legend entries to a row as fit beside the caption: one row if they can,
        so that the header row above the data is as low as it can be; the header is as
        tall as the caption or the legend."""
        legend = self.legend
        room = self.plot.width() - self.caption.boundingRect().width() - LEGEND_CLEARANCE_PX
        for columns in range(max(len(legend.items), 1), 0, -1):
            legend.setColumnCount(columns)
            if legend.boundingRect().width() <= room:
                break
        caption_px = self.caption.boundingRect().height()  # with its margins
        legend_px = (
            legend.boundingRect().height() + 2 * HEADER_MARGIN_PX if legend.isVisible() else 0.0
        )
        # the top value label may reach half the gap above the data: clear of the caption
        header_px = math.ceil(max(caption_px, legend_px) + PLOT_GAP_PX / 2)
        if header_px != self._header_px:
            self._header_px = header_px
            self.plot.layout.setRowFixedHeight(0, header_px)
            self.plot.layout.activate()  # the data below it now, not at the next event
            if self.collapsed:
                self.plot.setMaximumHeight(header_px)


# --------------------------------------------------------------------------- panel


class TrendPanel(QWidget):
    """Live trends of the site and of the selected object against simulated time.

    Feed it with ``append(snapshot)`` from the GUI thread. ``set_selection`` trends the
    values of the object selected in the 3D view; its history starts at the selection
    (the panel records only what it is asked to trend). Time going backwards, as after
    a reset of the simulation, clears the history. Values are kept in SI and drawn in
    the display units (``set_units``).
    """

    def __init__(self, start: datetime, theme: Theme = DARK, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._start = start
        self._theme = theme
        self._units = UnitSystem.SI
        self._site_series = tuple(series for plot in SITE_PLOTS for series in plot.series)
        self.site_history = TrendHistory(len(self._site_series))
        self.selection_history: TrendHistory | None = None
        self._selection_series: tuple[SelectionSeries, ...] = ()
        self._reference: SiteSeries | None = None
        self._event_markers: list[tuple[float, str]] = []
        self._collapsed: set[str] = set()  # plot keys (SELECTION_KEY: every selection plot)
        self._checkpoints: tuple[CheckpointSchedule, ...] = ()
        self._current_run: SiteSeries | SiteLog | None = None
        self._compared_at_s: float | None = None
        self._latest: Snapshot | None = None
        self._following = True
        self._stale = False
        self._syncing_ranges = False
        self._hover_scene_pos: QPointF | None = None
        self._time_axis_timer = QTimer(self)  # pins the time axis once the plots are laid out
        self._time_axis_timer.setSingleShot(True)
        self._time_axis_timer.timeout.connect(self._pin_time_axis)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setSpacing(PLOT_GAP_PX)
        self.graphics.ci.setContentsMargins(4, 2, 8, 2)
        self.graphics.installEventFilter(self)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.site_views: dict[str, TrendView] = {}
        first_row = 0
        for row, spec in enumerate(SITE_PLOTS, start=SELECTION_ROWS):
            view = TrendView(
                spec, self.site_history, range(first_row, first_row + len(spec.series)), start
            )
            first_row += len(spec.series)
            self.graphics.addItem(view.plot, row=row, col=0)
            view.plot.setVisible(spec.shown)
            self._connect_view(view)
            view.caption.on_click = self._toggler(spec.key)
            self.site_views[spec.key] = view
        self.selection_views: list[TrendView] = []
        self._selection_pool: list[TrendView] = []  # made once, reused for each selection

        self.plots_menu = QMenu(self)
        self.plot_actions: dict[str, QAction] = {}
        for key, text, shown in (
            (SELECTION_KEY, QCoreApplication.translate("trends", "Selected object"), True),
            *((p.key, _tr(p.title), p.shown) for p in SITE_PLOTS),
        ):
            action = self.plots_menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(shown)
            action.toggled.connect(lambda on, k=key: self.set_plot_shown(k, on))
            self.plot_actions[key] = action
            if key == SELECTION_KEY:
                self.plots_menu.addSeparator()
        plots_button = QToolButton()
        plots_button.setText(QCoreApplication.translate("trends", "Plots"))
        plots_button.setToolTip(QCoreApplication.translate("trends", "Choose the plots shown"))
        plots_button.setMenu(self.plots_menu)
        plots_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)

        self.window_box = QComboBox()
        self.window_box.setToolTip(QCoreApplication.translate("trends", "Simulated time shown"))
        for text, seconds in TIME_WINDOWS:
            self.window_box.addItem(text, seconds)
        self.window_box.currentIndexChanged.connect(lambda _i: self.set_following(True))

        self.live_button = QToolButton()
        self.live_button.setText(QCoreApplication.translate("trends", "Live"))
        self.live_button.setCheckable(True)
        self.live_button.setChecked(True)
        self.live_button.setToolTip(
            "Keep the newest values at the right edge; zooming or panning a plot stops following"
        )
        self.live_button.toggled.connect(self.set_following)

        self.cursor_label = QLabel()
        self.cursor_label.setObjectName("muted")

        self.difference_button = QToolButton()
        self.difference_button.setText("A − B")
        self.difference_button.setCheckable(True)
        self.difference_button.setToolTip("Show this run minus the reference run instead of both")
        self.difference_button.toggled.connect(self.set_difference)
        self.difference_button.hide()
        self.comparison_table = KpiComparisonTable(theme)
        self.comparison_table.hide()

        export_menu = QMenu(self)
        self.export_png_action = export_menu.addAction(
            "Image (PNG)…", lambda: self._export_with_dialog("png")
        )
        self.export_csv_action = export_menu.addAction(
            "Data (CSV)…", lambda: self._export_with_dialog("csv")
        )
        export_button = QToolButton()
        export_button.setText(QCoreApplication.translate("trends", "Export"))
        export_button.setToolTip(
            QCoreApplication.translate(
                "trends", "Save the plots shown as an image or their data as CSV"
            )
        )
        export_button.setMenu(export_menu)
        export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)

        controls = QHBoxLayout()
        controls.setContentsMargins(6, 4, 6, 0)
        for widget in (
            plots_button,
            QLabel(QCoreApplication.translate("trends", "Window")),
            self.window_box,
            self.live_button,
            self.difference_button,
        ):
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(self.cursor_label)
        controls.addWidget(export_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(controls)
        # The plots fill the height there is, and scroll when they would be squeezed
        # below their minimum (``_fit_plots``).
        self.scroll_area = QScrollArea()
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(self.graphics)
        self.time_axis = PinnedTimeAxis(start, self.scroll_area)
        scroll_bar = self.scroll_area.verticalScrollBar()
        scroll_bar.valueChanged.connect(self._time_axis_timer.start)
        scroll_bar.rangeChanged.connect(self._time_axis_timer.start)
        self.scroll_area.viewport().installEventFilter(self)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.scroll_area)
        splitter.addWidget(self.comparison_table)
        splitter.setStretchFactor(0, 1)
        column.addWidget(splitter, 1)

        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.timeout.connect(self.refresh)
        self._update_axes()
        self.apply_theme(theme)
        self.refresh()

    # ----------------------------------------------------------------- data

    @property
    def time_window_s(self) -> float:
        return float(self.window_box.currentData())

    @property
    def following(self) -> bool:
        return self._following

    @property
    def latest_time_s(self) -> float | None:
        return None if self._latest is None else self._latest.time_s

    @property
    def nbytes(self) -> int:
        """Memory held by the histories, fixed whatever the run time."""
        selection = 0 if self.selection_history is None else self.selection_history.nbytes
        return self.site_history.nbytes + selection

    def append(self, snapshot: Snapshot) -> None:
        """Record a snapshot; the plots catch up within ``REDRAW_INTERVAL_MS``."""
        if self._latest is not None and snapshot.time_s < self._latest.time_s:
            self.clear()
        self._latest = snapshot
        time_s = snapshot.time_s
        self.site_history.append(
            time_s,
            np.fromiter(
                (series.read(snapshot) for series in self._site_series),
                float,
                count=len(self._site_series),
            ),
        )
        if isinstance(self._current_run, SiteLog):
            self._current_run.add(time_s, snapshot.site)
        if self.selection_history is not None:
            self.selection_history.append(time_s, self._selection_values(snapshot))
        self._stale = True
        if self.isVisible() and not self._redraw_timer.isActive():
            self._redraw_timer.start(REDRAW_INTERVAL_MS)

    def set_limits(self, limits: dict[str, tuple[TrendLimit, ...]]) -> None:
        """Limit lines on the site plots, by the plot's key (``trend_marks.plot_limits``)."""
        for key, view in self.site_views.items():
            view.set_limits(limits.get(key, ()))

    def set_events(self, markers: list[tuple[float, str]]) -> None:
        """Mark the events applied so far ((time, label) each, in time order) on every site
        plot, named on the top one shown; a shorter list than before (the run started
        again) takes the extra markers away."""
        self._event_markers = list(markers)
        shown = [view for view in self.site_views.values() if view.plot.isVisible()]
        for view in self.site_views.values():
            view.set_events(self._event_markers, labelled=bool(shown) and view is shown[0])

    def set_checkpoints(self, schedules: Iterable[CheckpointSchedule]) -> None:
        """Shade the training jobs' checkpoints on the power and throughput plots
        (``trend_marks.checkpoint_schedules``)."""
        self._checkpoints = tuple(schedules)
        self.refresh()

    def _draw_checkpoints(self, left: float, right: float) -> None:
        """Those in view that have begun, as events are marked once applied."""
        now = self.latest_time_s
        right = min(right, now) if now is not None else left
        spans = [
            (start, end, schedule.job)
            for schedule in self._checkpoints
            for start, end in schedule.windows(left, right)
        ]
        if len(spans) > CHECKPOINTS_DRAWN_MAX:
            spans = []
        for key in CHECKPOINT_PLOTS:
            self.site_views[key].set_checkpoints(spans)

    def clear(self) -> None:
        """Forget all history, as when the simulation starts again."""
        self._latest = None
        self.site_history.clear()
        if self.selection_history is not None:
            self.selection_history.clear()
        self.refresh()

    def set_selection(self, title: str | None, series: tuple[SelectionSeries, ...]) -> None:
        """Trend the values of a selected object, one plot per unit; ``(None, ())``
        removes them. The history starts now; calling again starts a new one. Plots are
        made once and reused, hidden while not needed."""
        by_unit: dict[str, list[int]] = {}
        for i, (_, unit, _) in enumerate(series):
            by_unit.setdefault(unit, []).append(i)
        if title is None:
            by_unit = {}
        if len(by_unit) > SELECTION_ROWS:
            raise ValueError(f"at most {SELECTION_ROWS} units can be trended, got {len(by_unit)}")
        self._selection_series = tuple(series) if by_unit else ()
        history = self.selection_history = TrendHistory(len(series)) if by_unit else None
        shown = self.plot_actions[SELECTION_KEY].isChecked()
        self.selection_views = []
        if history is not None and title is not None:  # else by_unit is empty
            for row, (unit, rows) in enumerate(by_unit.items()):
                view = self._selection_view(row, unit, rows, series, history, title)
                view.plot.setVisible(shown)
                view.set_collapsed(SELECTION_KEY in self._collapsed)
                self.selection_views.append(view)
        for view in self._selection_pool[len(self.selection_views) :]:
            view.plot.setVisible(False)
            view.clear_data()
        if history is not None:
            left, right = self._x_range()
            self._set_x_range(left, right)
            if self._latest is not None:  # show the current values at once, even when paused
                history.append(self._latest.time_s, self._selection_values(self._latest))
        self._update_axes()
        self.refresh()

    def _selection_view(
        self,
        row: int,
        unit: str,
        rows: list[int],
        series: tuple[SelectionSeries, ...],
        history: TrendHistory,
        title: str,
    ) -> TrendView:
        """The plot of row ``row`` of the selection's plots, made or taken from the pool."""
        spec = TrendPlot(
            f"{SELECTION_KEY}:{unit}",
            "Selected",
            unit,
            tuple(TrendSeries(series[i][0], series[i][2]) for i in rows),
            decimals=None,
        )
        if row < len(self._selection_pool):
            view = self._selection_pool[row]
            view.history = history
            view.configure(spec, rows, title)
            view.clear_data()
            return view
        view = TrendView(spec, history, rows, self._start, title, self._units)
        self.graphics.addItem(view.plot, row=row, col=0)
        self._connect_view(view)
        view.caption.on_click = self._toggler(SELECTION_KEY)
        view.apply_theme(self._theme)
        self._selection_pool.append(view)
        return view

    def set_reference(
        self, reference: SiteSeries | None, current: SiteSeries | SiteLog | None = None
    ) -> None:
        """Compare with another run: its site series drawn dashed beside this run's and
        their KPI differences in a table, up to the time shown; None stops comparing.
        ``current`` is this run's site series: a whole recording when replaying (cut at
        the time shown), or a ``SiteLog`` that this panel fills from the snapshots it
        is given. The caller checks that the runs can be compared
        (``twin.runs.replay.comparison_problem``)."""
        self._reference = reference
        self._current_run = current if reference is not None else None
        self._compared_at_s = None
        names = ("", "") if reference is None or current is None else (current.name, reference.name)
        times = None if reference is None else reference.columns["time_s"]
        columns = None if reference is None else reference.columns
        for view in self.site_views.values():
            view.set_reference(times, columns, names)
        self.difference_button.setVisible(reference is not None)
        if reference is None:
            self.difference_button.setChecked(False)
        self.comparison_table.setVisible(reference is not None)
        self.comparison_table.set_runs(*names)
        self.refresh()

    @property
    def reference(self) -> SiteSeries | None:
        return self._reference

    def set_difference(self, difference: bool) -> None:
        """Show this run minus the reference run (A − B) rather than both runs."""
        if self.difference_button.isChecked() != difference:
            self.difference_button.setChecked(difference)  # comes back through toggled
            return
        for view in self.site_views.values():
            view.set_difference(difference)
        self.refresh()

    # ----------------------------------------------------------------- view

    def views(self) -> list[TrendView]:
        """All plots, selection first, shown or not."""
        return [*self.selection_views, *self.site_views.values()]

    def shown_views(self) -> list[TrendView]:
        return [view for view in self.views() if view.plot.isVisible()]

    def open_views(self) -> list[TrendView]:
        """The plots shown and not collapsed: those that draw their data."""
        return [view for view in self.shown_views() if not view.collapsed]

    @property
    def collapsed(self) -> frozenset[str]:
        """The keys of the plots collapsed to their headers (``SELECTION_KEY`` for the
        selection's)."""
        return frozenset(self._collapsed)

    def _toggler(self, key: str) -> Callable[[], None]:
        """What a click on a plot's caption does: collapse or open it."""
        return lambda: self.set_collapsed(key, key not in self._collapsed)

    def set_collapsed(self, key: str, collapsed: bool) -> None:
        """Collapse a plot (a key of ``SITE_PLOTS``, or ``SELECTION_KEY`` for the
        selection's plots) to its header row, or open it again; an unknown key (a plot
        of another version of twin, from the settings) is ignored."""
        if key != SELECTION_KEY and key not in self.site_views:
            return
        if collapsed:
            self._collapsed.add(key)
        else:
            self._collapsed.discard(key)
        views = self.selection_views if key == SELECTION_KEY else [self.site_views[key]]
        for view in views:
            view.set_collapsed(collapsed)
        self._update_axes()
        self.refresh()

    def set_plot_shown(self, key: str, shown: bool) -> None:
        """Show or hide a site plot (a key of ``SITE_PLOTS``) or the selection plots
        (``SELECTION_KEY``)."""
        action = self.plot_actions[key]
        if action.isChecked() != shown:
            action.setChecked(shown)  # comes back here through its toggled signal
            return
        views = self.selection_views if key == SELECTION_KEY else [self.site_views[key]]
        for view in views:
            view.plot.setVisible(shown)
        self.set_events(self._event_markers)  # named on the top plot shown
        self._update_axes()
        self.refresh()

    def set_time_window(self, seconds: float) -> None:
        """Show one of the ``TIME_WINDOWS`` up to now."""
        index = self.window_box.findData(seconds)
        if index < 0:
            raise ValueError(
                f"the time window is one of {[s for _, s in TIME_WINDOWS]} s, not {seconds}"
            )
        self.window_box.setCurrentIndex(index)

    def set_following(self, following: bool) -> None:
        """Follow the newest values (the x range is the time window up to now), or leave
        the x range to the user."""
        if self.live_button.isChecked() != following:
            self.live_button.setChecked(following)  # comes back here through its toggled signal
            return
        self._following = following
        self.refresh()

    def refresh(self) -> None:
        """Draw what has been appended since the last draw."""
        self._redraw_timer.stop()
        self._stale = False
        left, right = self._x_range()
        if self._following:
            self._set_x_range(left, right)
        self._draw_checkpoints(left, right)
        groups = [(self.site_history, list(self.site_views.values()))]
        if self.selection_history is not None:
            groups.append((self.selection_history, self.selection_views))
        for history, views in groups:
            shown = [view for view in views if view.plot.isVisible()]
            if not shown:
                continue
            if history.empty:
                for view in shown:
                    view.clear_data()
                continue
            ring = history.ring_for(left)
            x, y = history.window(ring, left, right)
            means = history.means(ring, left, right)
            for view in shown:
                view.set_data(x, y, means)
        self._update_comparison()
        self._fit_plots()  # the time axis grows to its labels' height once they are drawn
        if self._hover_scene_pos is not None:
            self._on_mouse_moved(self._hover_scene_pos)

    def show_readout(self, time_s: float) -> None:
        """Show the crosshair at a time and the values of every shown curve there."""
        left, _ = self._x_range()
        for view in self.views():
            view.hide_readout()
        for view in self.open_views():
            history = view.history
            view.show_readout(time_s, history.at(history.ring_for(left), time_s))
        now = self._start + timedelta(seconds=time_s)
        self.cursor_label.setText(f"{now:%Y-%m-%d %H:%M:%S}  day {int(time_s // 86400) + 1}")

    def hide_readout(self) -> None:
        self._hover_scene_pos = None
        for view in self.views():
            view.hide_readout()
        self.cursor_label.clear()

    def set_units(self, units: UnitSystem) -> None:
        """Draw every plot, its axis and read-out in ``units``; the history stays."""
        self._units = units
        for view in [*self._selection_pool, *self.site_views.values()]:
            view.set_units(units)
        self.refresh()

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.graphics.setBackground(theme.base)
        self.time_axis.apply_theme(theme)
        for view in [*self._selection_pool, *self.site_views.values()]:
            view.apply_theme(theme)
        self.comparison_table.apply_theme(theme)

    # ----------------------------------------------------------------- export

    def export_png(self, path: str | Path) -> None:
        """Save the plots shown as a PNG image; raise ``ExportError`` if it cannot be
        written."""
        self.refresh()
        if self.graphics.ci.boundingRect().isEmpty():
            raise ExportError(f"Could not write {path}: the plots have no size yet")
        image = ImageExporter(self.graphics.ci).export(toBytes=True)
        writer = QImageWriter(str(path), b"png")
        if not writer.write(image):
            raise ExportError(f"Could not write {path}: {writer.errorString()}")

    def export_csv(self, path: str | Path) -> None:
        """Save the data of the plots shown as CSV; raise ``ExportError`` if it cannot be
        written. Each curve has two columns, ``<label> [<unit>]_x`` (seconds since the
        scenario start) and ``_y``; each bin gives two rows, its minimum and maximum.
        Comparing with another run, this run's curves are ``<label> (A: <run>) [<unit>]``
        and the other run's ``<label> (B: <run>) [<unit>]``, its rows at its own times
        across the time shown; in the difference view the curves are ``<label> (A − B)``."""
        self.refresh()
        left, right = self._x_range()
        table = pg.PlotItem()  # CSVExporter writes the curves of one plot: gather them
        try:
            for view in self.shown_views():
                for name, x, y in view.exported(left, right):
                    table.addItem(pg.PlotDataItem(x, y, name=name))
            CSVExporter(table).export(str(path))
        except OSError as error:
            raise ExportError(f"Could not write {path}: {error.strerror or error}") from error
        finally:
            table.clear()

    def _export_with_dialog(self, kind: str) -> None:
        name_filter = "PNG image (*.png)" if kind == "png" else "CSV table (*.csv)"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export trends", f"twin-trends.{kind}", name_filter
        )
        if not path:
            return
        if not path.lower().endswith(f".{kind}"):
            path += f".{kind}"
        try:
            (self.export_png if kind == "png" else self.export_csv)(path)
        except ExportError as error:
            box = QMessageBox(QMessageBox.Icon.Warning, "Export failed", str(error), parent=self)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

    # ----------------------------------------------------------------- internals

    def _update_comparison(self) -> None:
        """The KPI table up to the time shown, when that time has changed."""
        if self._reference is None or self._current_run is None:
            return
        now = self.latest_time_s
        if now == self._compared_at_s:
            return
        self._compared_at_s = now
        current = self._current_run.until(now if now is not None else -math.inf)
        reference = self._reference
        t_a, t_b = current.columns["time_s"], reference.columns["time_s"]
        if not t_a.size or max(t_a[0], t_b[0]) > min(t_a[-1], t_b[-1]):
            self.comparison_table.show_comparison(None)
        elif t_a[0] > max(t_b[0], np.median(np.diff(t_b)) if t_b.size > 1 else t_b[0]):
            # totals count from the start of a run; a live run logged since later has none
            self.comparison_table.show_comparison(
                None, "A was not followed from its start: Simulation > Reset starts it again"
            )
        else:
            # compare(b, a) gives a's KPIs minus b's: this run minus the reference (A − B)
            self.comparison_table.show_comparison(compare(reference, current))

    def _selection_values(self, snapshot: Snapshot) -> np.ndarray:
        return np.fromiter(
            (read(snapshot) for _, _, read in self._selection_series),
            float,
            count=len(self._selection_series),
        )

    def _connect_view(self, view: TrendView) -> None:
        viewbox = view.plot.getViewBox()
        viewbox.sigXRangeChanged.connect(self._on_x_range_changed)
        viewbox.sigResized.connect(lambda _viewbox: self._time_axis_timer.start())
        view.plot.getAxis("bottom").geometryChanged.connect(self._time_axis_timer.start)
        viewbox.sigRangeChangedManually.connect(lambda _mask: self._on_user_range(viewbox))

    def _on_user_range(self, viewbox: pg.ViewBox) -> None:
        """The user panned or zoomed a plot: stop following and move the others along."""
        if self._following:
            self._set_x_range(*viewbox.viewRange()[0])
            self.set_following(False)

    def _x_range(self) -> tuple[float, float]:
        if self._following:
            window = self.time_window_s
            right = max(self.latest_time_s or 0.0, window)  # fill from the left at the start
            return right - window, right
        left, right = self.views()[-1].plot.viewRange()[0]
        return left, right

    def _set_x_range(self, left: float, right: float) -> None:
        # Ranges are kept equal here rather than by pyqtgraph's x-links, which align
        # pixels with the linked plot and go wrong while that plot is hidden.
        self._syncing_ranges = True
        try:
            for view in self.views():
                view.plot.setXRange(left, right, padding=0)
        finally:
            self._syncing_ranges = False
        self._time_axis_timer.start()

    def _on_x_range_changed(self, _viewbox, x_range: tuple[float, float]) -> None:
        if self._syncing_ranges or self._following:
            return
        self._set_x_range(*x_range)
        if not self._redraw_timer.isActive() or (
            self._redraw_timer.remainingTime() > INTERACTIVE_REDRAW_MS
        ):
            self._redraw_timer.start(INTERACTIVE_REDRAW_MS)

    def _update_axes(self) -> None:
        """Tick labels of time only under the lowest plot open; no time axis under a
        collapsed one."""
        shown = self.open_views()
        for view in self.views():
            view.plot.showAxis("bottom", not view.collapsed)
            view.plot.getAxis("bottom").setStyle(showValues=bool(shown) and view is shown[-1])
        self._fit_plots()

    def _fit_plots(self) -> None:
        """Keep the plots shown at least their minimum height, scrolling if need be."""
        layout = self.graphics.ci
        height = layout.effectiveSizeHint(Qt.SizeHint.MinimumSize).height()
        self.graphics.setMinimumHeight(math.ceil(height) + 2 * self.graphics.frameWidth())

    def _pin_time_axis(self) -> None:
        """Lay the pinned time axis over the bottom of the visible plots, lined up with
        them, while the time axis under the lowest plot shown is not wholly in view;
        hide it otherwise."""
        shown = self.open_views()
        axis = shown[-1].plot.getAxis("bottom") if shown else None
        if axis is None or axis.geometry().height() < 1:
            self.time_axis.hide()
            return
        viewport = self.scroll_area.viewport()
        offset = self.graphics.viewport().mapTo(viewport, QPoint(0, 0))
        in_viewport = (
            self.graphics.viewportTransform().mapRect(axis.sceneBoundingRect()).translated(offset)
        )
        if QRectF(viewport.rect()).adjusted(-0.5, -0.5, 0.5, 0.5).contains(in_viewport):
            self.time_axis.hide()
            return
        height = round(in_viewport.height())
        area = viewport.geometry()  # in the scroll area
        self.time_axis.setGeometry(area.left(), area.bottom() + 1 - height, area.width(), height)
        self.time_axis.show_like(axis, in_viewport.left())
        self.time_axis.show()
        self.time_axis.raise_()

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        for view in self.open_views():
            viewbox = view.plot.getViewBox()
            if viewbox.sceneBoundingRect().contains(scene_pos):
                self.show_readout(viewbox.mapSceneToView(scene_pos).x())
                self._hover_scene_pos = scene_pos
                return
        self.hide_readout()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.graphics and event.type() == QEvent.Type.Leave:
            self.hide_readout()
        elif watched is self.scroll_area.viewport() and event.type() == QEvent.Type.Resize:
            self._time_axis_timer.start()
        return super().eventFilter(watched, event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()
