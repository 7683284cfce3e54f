"""The main window: KPI strip, 3D view, toolbar, inspector and status bar.

The window owns the simulation runner. A GUI-thread timer takes the newest snapshot
from the runner (never waiting for it) and hands it to the 3D view and the widgets.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import (
    QByteArray,
    QCoreApplication,
    QEvent,
    QObject,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QImage,
    QKeySequence,
    QPainter,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from twin.alarms import AlarmEngine, AlarmSummary
from twin.gui._qt.alarms import AlarmPanel
from twin.gui._qt.controls import SPEEDS, ColorFieldPanel, TimeControls
from twin.gui._qt.inspector import ObjectInspector
from twin.gui._qt.kpi_strip import KpiStrip
from twin.gui._qt.language import LANGUAGES, install_language, remove_language
from twin.gui._qt.legend import SceneLegend
from twin.gui._qt.power_quality import PowerQualityWindow
from twin.gui._qt.replay_bar import ReplayBar
from twin.gui._qt.theme import THEMES, Theme
from twin.gui._qt.timeline import TimelinePanel
from twin.gui._qt.trends import TrendPanel
from twin.gui._vispy.base import LAYERS
from twin.gui._vispy.canvas import CanvasWrapper
from twin.gui.about import about_html
from twin.gui.colors import rack_color_fields, residual_fields
from twin.gui.faults import faults_for
from twin.gui.kpis import site_kpis
from twin.gui.objects import Selection, object_name
from twin.gui.runner import NO_FRAME, Frame, SimulationLike, SimulationRunner
from twin.gui.timeline import save_timeline, user_scenario_dir
from twin.gui.trend_marks import checkpoint_schedules, event_marker, plot_limits
from twin.gui.units import UnitSystem
from twin.runs.observe import AppliedEvent, RunObserver
from twin.runs.recording import RecordingError
from twin.runs.replay import COMPARABLE, ReplaySimulation, SiteLog, SiteSeries, comparison_problem
from twin.scenario import Scenario, ScenarioError, builtin_scenarios, load
from twin.scenario.files import builtin_scenario_dir
from twin.scenario.schema import Event
from twin.settings import Settings, save_settings
from twin.sim.snapshot import Snapshot
from twin.sim.weather import check_hourly_csv

FRAME_INTERVAL_MS = 16  # pull snapshots at up to 60 Hz; slower GL simply draws fewer
STATUS_INTERVAL_MS = 1000
REPLAY_BADGE_STYLE = (
    "background:#b45309;color:white;font-weight:bold;padding:2px 8px;"
    "border-radius:3px;margin-right:6px"
)  # amber: not live, not an alarm
PANEL_INTERVAL_S = 0.2
"""The KPI strip, inspector, alarm list and time read-outs follow the simulation at 5 Hz:
readable, and their repaint (a few ms of software rendering each) stays off most frames."""
DEFAULT_SPEED = 60.0
# The trend dock's share of the window's height, within limits: on a 1080-p screen three
# plots open (each a header, its least data height and its axis, trends.py) without
# scrolling; on a laptop the 3D view keeps its room and the plots scroll or collapse.
TREND_DOCK_SHARE = 0.32
TREND_DOCK_HEIGHT_PX = (260, 360)
DEFAULT_WINDOW_SIZE = QSize(1440, 900)
WINDOW_FRAME_ALLOWANCE = QSize(16, 48)  # a title bar and borders around the window
SPEEDS_OFFERED = {value for _, value in SPEEDS}
_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.KeyPress,
        QEvent.Type.Wheel,
    }
)


def _application() -> QCoreApplication:
    app = QApplication.instance()
    if app is None:
        raise RuntimeError("the window needs the application made first")
    return app


def _replay_bar(simulation: SimulationLike) -> ReplayBar | None:
    """A scrub bar when the window plays a recording back rather than simulating."""
    if not isinstance(simulation, ReplaySimulation):
        return None
    recording = simulation.recording
    return ReplayBar(float(recording.times[0]), recording.end_s, recording.every_s)


class MainWindow(QMainWindow):
    scenario_chosen = Signal(object, str)  # a validated Scenario the user opened, its source

    def __init__(
        self,
        scenario: Scenario,
        simulation: SimulationLike,
        *,
        alarms: AlarmEngine,
        observers: Sequence[RunObserver] = (),
        connection: Callable[[], str] | None = None,
        theme: str = "dark",
        units: str | None = None,
        language: str | None = None,
        speed: float | None = DEFAULT_SPEED,
        running: bool = True,
        settings: Settings | None = None,
        source: str | None = None,
        reference: SiteSeries | None = None,
    ) -> None:
        """``alarms`` scans the simulation as it runs (on the runner's thread) and is shown
        by the alarm panel and the 3D view; ``observers`` are told of every step after it
        (``twin.runs.observe``); ``connection()`` tells the state of the run's outside
        connection (a broker) in the status bar. ``settings``, when given, are restored (window
        layout) and saved on close with ``source`` (the scenario's name or path) as the last
        scenario. ``reference`` is a run to compare with from the start (see
        ``compare_with``). ``language`` (``LANGUAGES``; else the saved one, else English)
        translates the menus, docks, figures and 3D labels while the window is open."""
        super().__init__()
        self.language = language or (settings.language if settings else "en")
        # before anything is built: widgets and 3D labels take their texts as they are made
        self._language = install_language(self.language)
        self.scenario = scenario
        self.settings, self.source = settings, source
        if speed not in SPEEDS_OFFERED:
            speed = DEFAULT_SPEED
        # the site's structure, compiled once by the simulation (or the recording)
        self.site = simulation.site
        self.topology, self.layout_ = self.site.topology, self.site.layout
        self.theme: Theme = THEMES[theme]
        # display units: as asked, else the saved ones, else SI (the simulation's)
        self.units = UnitSystem(units or (settings.units if settings else UnitSystem.SI))
        self.setWindowTitle(f"twin — {scenario.scenario.title}[*]")  # [*]: unsaved edits
        # on a laptop's screen, as large as fits it with the window manager's frame
        room = self.screen().availableGeometry().size() - WINDOW_FRAME_ALLOWANCE
        self.resize(DEFAULT_WINDOW_SIZE.boundedTo(room))

        self.fields = rack_color_fields(scenario)
        rack_residuals = getattr(simulation, "rack_residuals", None)  # a shadow's
        if rack_residuals is not None:
            self.fields += residual_fields(rack_residuals)
        self.canvas = CanvasWrapper(
            scenario,
            self.topology,
            self.layout_,
            self.fields,
            self.theme.scene,
            native_window=True,
            antialiasing=settings.antialiasing if settings else "auto",
        )
        self.canvas.set_units(self.units)
        self.kpis = KpiStrip(site_kpis(scenario, alarms.points, self.units))
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.kpis)
        column.addWidget(self.canvas.widget, 1)
        self.setCentralWidget(central)

        # alarms are scanned on the simulation's thread as it steps (the runner's observer);
        # the window shows the summary in each frame and sends operator actions as commands
        self.replay_bar = _replay_bar(simulation)
        self._recording = simulation.recording if isinstance(simulation, ReplaySimulation) else None
        self.alarm_engine = alarms
        self.runner = SimulationRunner(
            simulation,
            alarms=alarms,
            observers=observers,
            speed=speed,
            paused=not running,
            parent=self,
        )
        self.runner.failed.connect(self._on_simulation_failed)
        self.time_controls = TimeControls(scenario.scenario.start, speed)
        self.time_controls.set_running(running)
        self.time_controls.play_toggled.connect(self.set_running)
        self.time_controls.step_requested.connect(self.step)
        self.time_controls.speed_changed.connect(self.runner.set_speed)
        # the 3D view colours by SI values; the bar tells them in the display units
        self.color_panel = ColorFieldPanel(tuple(f.in_units(self.units) for f in self.fields))
        self.color_panel.field_changed.connect(self.canvas.set_color_field)
        self.viewpoint_box = QComboBox()
        self.viewpoint_box.setToolTip(self.tr("Fly the camera to a saved viewpoint"))
        for key, view in self.canvas.viewpoints.items():
            self.viewpoint_box.addItem(view.label, key)
        self.viewpoint_box.activated.connect(
            lambda i: self.canvas.go_to(self.viewpoint_box.itemData(i))
        )
        self._build_toolbar()
        self.replay_badge: QLabel | None = None
        if self.replay_bar is not None and self._recording is not None:
            # a recording plays back through the same views; the bar scrubs it
            replay_toolbar = QToolBar("Replay")
            replay_toolbar.setObjectName("replayToolbar")
            replay_toolbar.setMovable(False)
            # a recording played back must never pass for the live simulation
            self.replay_badge = QLabel("REPLAY")
            self.replay_badge.setObjectName("replayBadge")
            self.replay_badge.setToolTip(f"Playing back the recording {self._recording.path}")
            self.replay_badge.setStyleSheet(REPLAY_BADGE_STYLE)
            replay_toolbar.addWidget(self.replay_badge)
            replay_toolbar.addWidget(self.replay_bar)
            self.addToolBarBreak()
            self.addToolBar(replay_toolbar)
            self.replay_bar.seek_requested.connect(
                lambda time_s: self.runner.call(lambda sim: sim.seek(time_s))
            )

        # beside a plant (a shadow's model), the inspector shows the measured points too
        # beside a plant, the trends of a selected object show its measured points too
        self._measured_series = getattr(simulation, "measured_series", lambda _k, _i: ())
        self.inspector = ObjectInspector(
            scenario,
            self.topology,
            self.units,
            measurements=getattr(simulation, "measurements", None),
            tracked=getattr(simulation, "tracked", None),
        )
        dock = QDockWidget(self.tr("Inspector"), self)
        dock.setObjectName("inspector")
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.inspector)
        dock.setWidget(scroll)
        dock.setMinimumWidth(300)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        # what each colour of the 3D view means, a tab behind the inspector
        self.legend = SceneLegend()
        self.legend_dock = QDockWidget(self.tr("Legend"), self)
        self.legend_dock.setObjectName("legend")
        legend_scroll = QScrollArea()
        legend_scroll.setWidgetResizable(True)
        legend_scroll.setWidget(self.legend)
        self.legend_dock.setWidget(legend_scroll)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.legend_dock)
        self.tabifyDockWidget(dock, self.legend_dock)
        dock.raise_()
        self.trends = TrendPanel(scenario.scenario.start, self.theme)
        self.trends.set_units(self.units)
        self.trends.set_limits(plot_limits(scenario, alarms.points))
        self.trends.set_checkpoints(checkpoint_schedules(scenario))
        for key in settings.trends_collapsed if settings else ():
            self.trends.set_collapsed(key, True)
        self._event_markers: list[tuple[float, str]] = []
        trend_dock = QDockWidget(self.tr("Trends"), self)
        trend_dock.setObjectName("trends")
        trend_dock.setWidget(self.trends)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, trend_dock)
        self.trend_dock = trend_dock
        # a layout the user saved keeps its docks' sizes; else the trends take their share
        self._trend_dock_follows = not (settings and settings.window_state)
        self._fit_trend_dock()
        self._applied_shown = 0  # of the frames' applied events, those on the timeline
        self.timeline = TimelinePanel(scenario, units=self.units)
        if callable(getattr(simulation, "replace_schedule", None)):  # not a recording
            self.timeline.attach(self.runner.call)
        self.timeline.save_requested.connect(self.save_timeline)
        self.timeline.modified_changed.connect(self.setWindowModified)
        # asked when unsaved timeline edits would be lost: "save", "discard" or "cancel"
        self.ask_unsaved: Callable[[], str] = self._ask_unsaved
        self._timeline_discarded = False
        timeline_dock = QDockWidget(self.tr("Timeline"), self)
        timeline_dock.setObjectName("timeline")
        timeline_dock.setWidget(self.timeline)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, timeline_dock)
        self.timeline_dock = timeline_dock
        self.alarm_panel = AlarmPanel(scenario.scenario.start, units=self.units)
        alarm_dock = QDockWidget(self.tr("Alarms"), self)
        alarm_dock.setObjectName("alarms")
        alarm_dock.setWidget(self.alarm_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, alarm_dock)
        self.tabifyDockWidget(trend_dock, alarm_dock)
        self.tabifyDockWidget(trend_dock, timeline_dock)
        trend_dock.raise_()
        self.alarm_dock = alarm_dock
        self._shown_alarm_generation = -1
        engine = self.alarm_engine
        self.alarm_panel.acknowledge_requested.connect(
            lambda keys, note: self.runner.call(lambda _sim: engine.acknowledge(keys, note))
        )
        self.alarm_panel.acknowledge_all_requested.connect(
            lambda note: self.runner.call(lambda _sim: engine.acknowledge_all(note))
        )
        self.alarm_panel.shelve_requested.connect(
            lambda keys, duration_s, reason: self.runner.call(
                lambda _sim: engine.shelve(keys, duration_s, reason)
            )
        )
        self.alarm_panel.unshelve_requested.connect(
            lambda keys: self.runner.call(lambda _sim: engine.unshelve(keys))
        )
        self.alarm_panel.source_activated.connect(self.show_alarm_source)
        self.canvas.events.selected.connect(lambda event: self._on_selected(event.selection))
        self.canvas.events.context_menu.connect(
            lambda event: self._on_context_menu(QPoint(*map(round, event.pos)))
        )
        self.inspector.command.connect(self.runner.call)
        self.inspector.fly_to.connect(self.canvas.fly_to)
        self.runner.rejected.connect(
            lambda reason: self.statusBar().showMessage(f"Not applied: {reason}", 8000)
        )
        self._build_menus(dock, trend_dock, alarm_dock)
        if reference is not None:
            self.compare_with(reference)

        self.fps_label = QLabel()
        self.sim_label = QLabel()
        self.statusBar().addWidget(QLabel(scenario.scenario.title))
        self.statusBar().addPermanentWidget(self.sim_label)
        self.statusBar().addPermanentWidget(self.fps_label)
        self._connection = connection
        self.connection_label = QLabel()
        if connection is not None:
            self.statusBar().addPermanentWidget(self.connection_label)

        self.shown_generation = 0
        self.snapshot: Snapshot | None = None
        self._frames_at, self._frames_count = time.monotonic(), 0
        self.frame_timer = QTimer(self)
        self.frame_timer.setInterval(FRAME_INTERVAL_MS)
        self.frame_timer.timeout.connect(self.pull_snapshot)
        self._panels_shown_at = -PANEL_INTERVAL_S
        self.frame = NO_FRAME
        self._panels_frame = NO_FRAME
        self._panel_timer = QTimer(self)  # shows the newest snapshot held back by the pace
        self._panel_timer.setSingleShot(True)
        self._panel_timer.timeout.connect(self._show_newest_in_panels)
        self.status_timer = QTimer(self)
        self.status_timer.setInterval(STATUS_INTERVAL_MS)
        self.status_timer.timeout.connect(self._update_status)
        self.set_theme(theme)
        self._restore_layout()
        _application().installEventFilter(self)
        self.runner.start()
        self.frame_timer.start()
        self.status_timer.start()
        self._update_status()

    # ----------------------------------------------------------------- layout

    def _build_toolbar(self) -> None:
        """Time first, then the colour field, then the viewpoints: in a window too narrow
        for all of them, the last ones move into the toolbar's extension menu (») whole,
        each with its label."""
        bar = QToolBar("Simulation")
        bar.setObjectName("simulationToolbar")
        bar.setMovable(False)
        bar.addWidget(self.time_controls)
        bar.addSeparator()
        bar.addWidget(self.color_panel)
        bar.addSeparator()
        viewpoints = QWidget()
        row = QHBoxLayout(viewpoints)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel(self.tr("View")))
        row.addWidget(self.viewpoint_box)
        bar.addWidget(viewpoints)
        self.addToolBar(bar)

    def _build_menus(
        self, dock: QDockWidget, trend_dock: QDockWidget, alarm_dock: QDockWidget
    ) -> None:
        file = self.menuBar().addMenu(self.tr("&File"))
        open_file = QAction(self.tr("&Open scenario…"), self)
        open_file.setShortcut(QKeySequence.StandardKey.Open)
        open_file.triggered.connect(self._ask_for_scenario_file)
        file.addAction(open_file)
        builtins = file.addMenu(self.tr("&Built-in scenarios"))
        for name in builtin_scenarios():
            action = QAction(name, self)
            action.triggered.connect(lambda _=False, n=name: self.open_scenario(n))
            builtins.addAction(action)
        file.addSeparator()
        compare = file.addMenu(self.tr("&Compare with"))
        compare.addAction(
            self.tr("&Recording folder…"), lambda: self._ask_for_reference(folder=True)
        )
        compare.addAction(
            self.tr("Run &table (CSV, Parquet)…"), lambda: self._ask_for_reference(folder=False)
        )
        compare.addAction(self.tr("&Stop comparing"), lambda: self.compare_with(None))
        file.addSeparator()
        quit_action = QAction(self.tr("&Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file.addAction(quit_action)
        self.addAction(open_file)

        simulation = self.menuBar().addMenu(self.tr("&Simulation"))
        run = QAction(self.tr("&Run / pause"), self, shortcut=QKeySequence(Qt.Key.Key_Space))
        run.triggered.connect(lambda: self.set_running(self.runner.paused))
        step = QAction(self.tr("&Step"), self, shortcut=QKeySequence("S"))
        step.triggered.connect(self.step)
        reset = QAction(self.tr("Re&set to the start"), self)
        reset.triggered.connect(self.runner.reset)
        simulation.addActions([run, step, reset])
        simulation.addSeparator()
        simulation.addAction(self.tr("&Power quality…"), self.show_power_quality)
        self.power_quality: PowerQualityWindow | None = None
        self.addActions([run, step])  # shortcuts work while the 3D view has the focus

        view = self.menuBar().addMenu(self.tr("&View"))
        for number, (key, viewpoint) in enumerate(self.canvas.viewpoints.items(), start=1):
            action = QAction(viewpoint.label, self)
            if number <= 9:
                action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _=False, k=key: self.canvas.go_to(k))
            view.addAction(action)
            self.addAction(action)
        view.addSeparator()
        themes = QActionGroup(self)
        for name in THEMES:
            action = QAction(
                self.tr("Dark theme") if name == "dark" else self.tr("Light theme"),
                self,
                checkable=True,
            )
            action.setChecked(name == self.theme.name)
            action.triggered.connect(lambda _=False, n=name: self.set_theme(n))
            themes.addAction(action)
            view.addAction(action)
        units = view.addMenu(self.tr("&Units"))
        unit_systems = QActionGroup(self)
        self.unit_actions: dict[UnitSystem, QAction] = {}
        for system in UnitSystem:
            action = QAction(system.value, self, checkable=True)
            action.setChecked(system is self.units)
            action.triggered.connect(lambda _=False, s=system: self.set_units(s))
            unit_systems.addAction(action)
            units.addAction(action)
            self.unit_actions[system] = action
        antialiasing = view.addMenu(self.tr("&Anti-aliasing (FXAA)"))
        modes = QActionGroup(self)
        self.antialiasing_actions: dict[str, QAction] = {}
        # the FXAA modes of the 3D view (twin.gui._vispy.post.ANTIALIASING_MODES)
        antialiasing_choices = {
            "auto": self.tr("Automatic (on with a graphics card, off on software OpenGL)"),
            "on": self.tr("On"),
            "off": self.tr("Off"),
        }
        for mode, text in antialiasing_choices.items():
            action = QAction(text, self, checkable=True)
            action.setChecked(mode == self.canvas.canvas.antialiasing)
            action.triggered.connect(lambda _=False, m=mode: self.set_antialiasing(m))
            modes.addAction(action)
            antialiasing.addAction(action)
            self.antialiasing_actions[mode] = action
        languages = view.addMenu(self.tr("&Language"))
        language_group = QActionGroup(self)
        self.language_actions: dict[str, QAction] = {}
        for code, name in LANGUAGES.items():
            action = QAction(name, self, checkable=True)
            action.setChecked(code == self.language)
            action.triggered.connect(lambda _=False, c=code: self.set_language(c))
            language_group.addAction(action)
            languages.addAction(action)
            self.language_actions[code] = action
        view.addSeparator()
        layers = view.addMenu(self.tr("&Layers"))
        self.layer_actions: dict[str, QAction] = {}
        for layer in LAYERS:
            action = QAction(layer.title(), self, checkable=True)
            action.setChecked(self.canvas.layers[layer])
            action.toggled.connect(lambda on, name=layer: self.canvas.set_layer_visible(name, on))
            layers.addAction(action)
            self.layer_actions[layer] = action
        view.addSeparator()
        view.addAction(dock.toggleViewAction())
        view.addAction(trend_dock.toggleViewAction())
        view.addAction(alarm_dock.toggleViewAction())
        view.addAction(self.timeline_dock.toggleViewAction())
        view.addAction(self.legend_dock.toggleViewAction())

        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        about = QAction(self.tr("&About twin"), self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    # ----------------------------------------------------------------- behaviour

    def open_scenario(self, name_or_path: str | Path) -> bool:
        """Load a scenario and ask for it to replace this one (``scenario_chosen``); a bad
        file is reported in a dialog that lists every problem, and nothing changes."""
        try:
            scenario = load(name_or_path)
            check_hourly_csv(scenario)  # the files it names, before a run reads them
        except ScenarioError as exc:
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Scenario not opened",
                f"{name_or_path} is not a valid scenario.",
                parent=self,
            )
            box.setDetailedText(str(exc))
            box.setInformativeText(str(exc).splitlines()[0] if str(exc) else "")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            self.statusBar().showMessage(f"Scenario not opened: {name_or_path}", 8000)
            return False
        if not self._settle_unsaved_timeline():
            return False
        self.scenario_chosen.emit(scenario, str(name_or_path))
        return True

    def _ask_for_scenario_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open scenario", "", "twin scenarios (*.toml)")
        if path:
            self.open_scenario(Path(path))

    def compare_with(self, run: str | Path | SiteSeries | None) -> bool:
        """Set another run beside this one in the trends, with the KPI differences (None
        stops comparing). A run that cannot be compared is reported in a dialog that
        says what can be, and nothing changes."""
        if run is None:
            self.trends.set_reference(None)
            return True
        start = self.scenario.scenario
        metadata = {"scenario": start.name, "start": start.start.isoformat()}
        try:
            reference = run if isinstance(run, SiteSeries) else SiteSeries.read(run)
            if self._recording is not None:
                current: SiteSeries | SiteLog = SiteSeries.of(self._recording)
            else:
                times = reference.columns["time_s"]
                every_s = float(np.median(np.diff(times))) if times.size > 1 else times[0]
                current = SiteLog(
                    f"{start.name} (live)", metadata, max(every_s, 1e-3), float(times[-1])
                )
                if self.snapshot is not None:  # the log starts at the snapshot shown now
                    current.add(self.snapshot.time_s, self.snapshot.site)
            # a live run goes on: only its scenario and start can rule a comparison out
            shown = current.until(math.inf if self._recording is not None else -math.inf)
            problem = comparison_problem(shown, reference)
        except RecordingError as exc:
            problem = str(exc)
        if problem is not None:
            box = QMessageBox(QMessageBox.Icon.Warning, "Runs not compared", problem, parent=self)
            box.setInformativeText(f"Compare with {COMPARABLE}.")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            self.statusBar().showMessage("Runs not compared", 8000)
            return False
        self.trends.set_reference(reference, current)
        read = "; ".join((*reference.problems, f"comparing with {reference.name}"))
        self.statusBar().showMessage(read[0].upper() + read[1:], 15000)
        return True

    def _ask_for_reference(self, *, folder: bool) -> None:
        if folder:
            path = QFileDialog.getExistingDirectory(self, "Compare with a recording")
        else:
            path, _ = QFileDialog.getOpenFileName(
                self, "Compare with a run", "", "twin run tables (*.csv *.parquet)"
            )
        if path:
            self.compare_with(Path(path))

    def show_power_quality(self) -> PowerQualityWindow:
        """The grid import's swing spectrum against the utility limit, checked for the
        window's scenario on a thread of its own (``twin power-quality``)."""
        if self.power_quality is not None:
            self.power_quality.close()  # a check of an older scenario stops
            self.power_quality.deleteLater()
        self.power_quality = PowerQualityWindow(self.scenario, theme=self.theme)
        self.power_quality.show()
        self.power_quality.start()
        return self.power_quality

    def show_about(self) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.NoIcon, "About twin", about_html(), parent=self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def set_units(self, system: UnitSystem | str) -> None:
        """Show values in ``system`` from now on: the simulation stays SI, and the choice
        is kept in the settings."""
        self.units = UnitSystem(system)
        self.unit_actions[self.units].setChecked(True)
        self.kpis.set_kpis(site_kpis(self.scenario, self.alarm_engine.points, self.units))
        self.color_panel.set_fields(tuple(f.in_units(self.units) for f in self.fields))
        self.inspector.set_units(self.units)
        self.trends.set_units(self.units)
        self.canvas.set_units(self.units)
        self.alarm_panel.set_units(self.units)
        self.timeline.set_units(self.units)
        if self.settings is not None:
            self.settings.units = self.units.value
        if self._panels_frame.snapshot is not None:  # the inspector shows its own again
            self.kpis.update_snapshot(self._panels_frame.snapshot)

    def set_antialiasing(self, mode: str) -> None:
        """FXAA in the 3D view: "auto", "on" or "off"; kept in the settings."""
        self.canvas.canvas.antialiasing = mode
        self.antialiasing_actions[mode].setChecked(True)
        if self.settings is not None:
            self.settings.antialiasing = mode

    def set_language(self, language: str) -> None:
        """Keep ``language`` in the settings for the next window (the next start, or the
        next scenario opened): the menus, docks and 3D labels take their texts as they are
        built."""
        if language not in LANGUAGES:
            raise ValueError(f"no language {language!r}; the window speaks {', '.join(LANGUAGES)}")
        self.language_actions[language].setChecked(True)
        if self.settings is not None:
            self.settings.language = language
        if language == self.language:
            self.statusBar().clearMessage()
            return
        self.statusBar().showMessage(
            self.tr("{language} from the next start or the next scenario opened").format(
                language=LANGUAGES[language]
            ),
            15000,
        )

    def set_theme(self, name: str) -> None:
        self.theme = THEMES[name]
        app = QApplication.instance()
        if isinstance(app, QApplication):
            self.theme.apply(app)
        self.canvas.set_palette(self.theme.scene)
        self.trends.apply_theme(self.theme)

    def _show_alarms(self, summary: AlarmSummary) -> None:
        if summary.generation == self._shown_alarm_generation:
            return
        self._shown_alarm_generation = summary.generation
        self.alarm_panel.show_alarms(summary.alarms, summary.flood)
        self.canvas.show_alarms(summary.alarms)
        unacknowledged = summary.unacknowledged
        self.alarm_dock.setWindowTitle(
            self.tr("Alarms ({count}, {unacknowledged} unacknowledged)").format(
                count=len(summary.alarms), unacknowledged=unacknowledged
            )
            if summary.alarms
            else self.tr("Alarms")
        )

    def fault_menu(self, selection: Selection) -> QMenu:
        """The faults that can be injected on an object, as a menu labelled in the display
        units; each applies its event at the simulation's time, between two steps."""
        menu = QMenu(object_name(selection, self.scenario, self.topology), self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        title = menu.addAction(menu.title())
        title.setEnabled(False)
        menu.addSeparator()
        for label, make in faults_for(selection, self.scenario, self.topology, self.units):
            action = menu.addAction(label)
            action.triggered.connect(lambda _=False, m=make: self.inject(m))
        return menu

    def inject(self, make: Callable[[float], Event]) -> None:
        """Apply the event ``make(time_s)`` builds, at the simulation's time; the timeline
        lists it once applied (it comes back in the runner's frames)."""
        self.runner.inject(make)

    def _show_applied_events(self, applied: tuple[AppliedEvent, ...]) -> None:
        for done in applied[self._applied_shown :]:
            self.timeline.add_injected(done.time_s, done.event)
        self._applied_shown = len(applied)

    def save_timeline(self, target: Path | None = None) -> bool:
        """Write the timeline (its edits and the injected events) to the scenario file. A
        built-in scenario, or a file that cannot be written, is saved as a new file:
        ``target``, or asked for (in the user's scenario folder). Problems are reported in
        a dialog and the file stays as it was."""
        builtins = builtin_scenarios()
        source = Path(builtins.get(self.source or "", self.source or ""))
        if target is None and (
            source.resolve().is_relative_to(builtin_scenario_dir().resolve())
            or not os.access(source, os.W_OK)
        ):
            target = self._ask_for_new_scenario_file()
            if target is None:
                return False
        try:
            saved = save_timeline(
                source, self.timeline.model.file_entries(), self.timeline.model.saved, target
            )
        except (ScenarioError, OSError) as exc:
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Timeline not saved",
                str(exc).splitlines()[0],
                parent=self,
            )
            box.setInformativeText("The scenario file was left as it was.")
            box.setDetailedText(str(exc))
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            return False
        written = target or source
        self.source = str(written)
        self.timeline.mark_saved(list(saved.events))
        self.statusBar().showMessage(f"Timeline saved to {written}", 8000)
        return True

    def _ask_for_new_scenario_file(self) -> Path | None:
        folder = user_scenario_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            folder = Path.home()
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Save the scenario with its timeline as",
            str(folder / f"{self.scenario.scenario.name}-what-if.toml"),
            "twin scenarios (*.toml)",
        )
        return Path(name) if name else None

    def _ask_unsaved(self) -> str:
        answer = QMessageBox.question(
            self,
            "Unsaved timeline",
            "The timeline has changes that are not saved in the scenario file. Save them?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        return {
            QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard",
        }.get(answer, "cancel")

    def _settle_unsaved_timeline(self) -> bool:
        """Before the window closes or another scenario replaces it: unsaved timeline edits
        are saved or dropped as the user answers (``ask_unsaved``); False to stay."""
        if not self.timeline.model.modified or self._timeline_discarded:
            return True
        answer = self.ask_unsaved()
        if answer == "save":
            return self.save_timeline()
        self._timeline_discarded = answer == "discard"
        return self._timeline_discarded

    def _on_context_menu(self, pos: QPoint) -> None:
        selection = self.canvas.pick((pos.x(), pos.y()))
        if selection is None:
            return
        self.canvas.select(selection)
        self.fault_menu(selection).popup(self.canvas.widget.mapToGlobal(pos))

    def show_alarm_source(self, kind: str, index: int) -> None:
        """Select an alarm's source and fly the camera to it."""
        selection = Selection(kind, index)
        self.canvas.select(selection)
        self.canvas.fly_to(selection)

    def _on_selected(self, selection: Selection | None) -> None:
        """Show the selected object in the inspector and trend its readings."""
        self.inspector.show_object(selection)
        view = self.inspector.view
        if view is None:
            self.trends.set_selection(None, ())
        else:
            plant = self._measured_series(selection.kind, selection.index) if selection else ()
            self.trends.set_selection(
                view.title,
                (
                    *((reading.label, reading.unit, reading.read) for reading in view.readings),
                    *plant,
                ),
            )

    def set_running(self, running: bool) -> None:
        if running:
            self.runner.resume()
        else:
            self.runner.pause()
        self.time_controls.set_running(running)

    def step(self) -> None:
        self.runner.step()
        self.time_controls.set_running(False)

    def pull_snapshot(self) -> None:
        """Show the runner's newest frame, if there is one not shown yet; between frames
        of a running simulation, move the flow dots and fans on."""
        frame = self.runner.latest()
        if frame.snapshot is not None and frame.generation != self.shown_generation:
            self.shown_generation = frame.generation
            self.show_frame(frame)
        elif frame.snapshot is not None and not self.runner.paused:
            self.canvas.animate()

    def show_frame(self, frame: Frame) -> None:
        """The 3D view and the trends' buffers take every snapshot; the panels the newest
        frame at most every ``PANEL_INTERVAL_S`` (and always the last one shown)."""
        snapshot = frame.snapshot
        if snapshot is None:  # a frame before the first step: nothing to show
            return
        self.frame, self.snapshot = frame, snapshot
        self.canvas.update(snapshot)
        self.trends.append(snapshot)
        wait_s = self._panels_shown_at + PANEL_INTERVAL_S - time.monotonic()
        if wait_s <= 0:
            self._show_in_panels(frame)
        elif not self._panel_timer.isActive():
            self._panel_timer.start(max(1, round(wait_s * 1000)))

    def _show_newest_in_panels(self) -> None:
        if self.frame.snapshot is not None and self.frame is not self._panels_frame:
            self._show_in_panels(self.frame)

    def _show_in_panels(self, frame: Frame) -> None:
        snapshot = frame.snapshot
        if snapshot is None:  # a frame before the first step: nothing to show
            return
        self._panels_shown_at = time.monotonic()
        self._panels_frame = frame
        self.kpis.update_snapshot(snapshot)
        self.inspector.update_snapshot(snapshot)
        if frame.alarms is not None:
            self._show_alarms(frame.alarms)
        self._show_applied_events(frame.applied)
        self.timeline.set_time(snapshot.time_s)
        markers = sorted(
            event_marker(entry.at_s, entry.event)
            for entry in self.timeline.entries
            if self.timeline.is_past(entry)
        )
        if markers != self._event_markers:
            self._event_markers = markers
            self.trends.set_events(markers)
        self.time_controls.set_time(snapshot.time_s)
        if self.replay_bar is not None:
            self.replay_bar.show_time(snapshot.time_s)

    def _update_status(self) -> None:
        now = time.monotonic()
        frames = self.canvas.frames_drawn
        self.render_fps = (frames - self._frames_count) / max(now - self._frames_at, 1e-6)
        self._frames_at, self._frames_count = now, frames
        stats = self.runner.stats()
        self.fps_label.setText(f"render {self.render_fps:.0f} fps")
        if self._connection is not None:
            self.connection_label.setText(self._connection())
        if self._recording is not None:
            state = "paused" if stats.paused else f"{stats.speed:,.0f}× real time"
            self.sim_label.setText(f"replay of {self._recording.path.name} · {state}")
        elif stats.paused:
            self.sim_label.setText("simulation paused")
        else:
            self.sim_label.setText(
                f"simulation {stats.steps_per_s:,.0f} steps/s · {stats.speed:,.0f}× real time"
            )

    def _on_simulation_failed(self, report: str) -> None:
        self.time_controls.set_running(False)
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "Simulation error",
            "The simulation stopped with an error and is paused.",
            parent=self,
        )
        box.setDetailedText(report)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def save_screenshot(self, path: Path) -> bool:
        """The whole window, 3D view included, into a PNG. Grabbing the widgets leaves the
        view blank (it is a native window): it is drawn off-screen and put in its place."""
        image = self.grab().toImage()
        pixels = np.ascontiguousarray(self.canvas.render())  # (h, w, 3) RGB
        height, width = pixels.shape[:2]
        view = QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        painter = QPainter(image)
        painter.drawImage(
            QRect(self.canvas.widget.mapTo(self, QPoint(0, 0)), self.canvas.widget.size()), view
        )
        painter.end()
        return image.save(str(path))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.oldSize().height() != event.size().height():
            self._fit_trend_dock()  # a drag of the dock's edge alone stays as dragged

    def _fit_trend_dock(self) -> None:
        if not getattr(self, "_trend_dock_follows", False):  # not built yet, or the user's
            return
        low, high = TREND_DOCK_HEIGHT_PX
        height = min(max(round(TREND_DOCK_SHARE * self.height()), low), high)
        self.resizeDocks([self.trend_dock], [height], Qt.Orientation.Vertical)

    def _restore_layout(self) -> None:
        if self.settings is None:
            return
        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window_geometry.encode()))
        if self.settings.window_state:
            self.restoreState(QByteArray.fromBase64(self.settings.window_state.encode()))

    def _save_settings(self) -> None:
        if self.settings is None:
            return
        self.settings.theme = self.theme.name
        self.settings.units = self.units.value
        self.settings.antialiasing = self.canvas.canvas.antialiasing
        self.settings.last_scenario = self.source
        self.settings.speed = self.runner.speed
        self.settings.trends_collapsed = sorted(self.trends.collapsed)
        self.settings.window_geometry = self.saveGeometry().toBase64().toStdString()
        self.settings.window_state = self.saveState().toBase64().toStdString()
        problem = save_settings(self.settings)
        if problem is not None:
            print(f"twin: {problem}", file=sys.stderr)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Tell the runner of every click and key, so that it steps slower while the
        window answers (see ``SimulationRunner.note_input``); the event goes on."""
        if event.type() in _INPUT_EVENTS:
            self.runner.note_input()
        return False

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._settle_unsaved_timeline():
            event.ignore()
            return
        self._save_settings()
        self.frame_timer.stop()
        self._panel_timer.stop()
        self.status_timer.stop()
        _application().removeEventFilter(self)
        self.runner.stop()
        if self.power_quality is not None:
            self.power_quality.close()  # cancels a check under way
            self.power_quality.deleteLater()
            self.power_quality = None
        self.canvas.close()
        remove_language(self._language)
        super().closeEvent(event)
