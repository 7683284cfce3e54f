"""The strip of site figures along the top of the window, refreshed from each snapshot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from twin.gui.units import UnitSystem, conversion
from twin.scenario import Scenario
from twin.sim.snapshot import Snapshot

NORMAL, WARNING, ALARM = "normal", "warning", "alarm"


def _si(value: float, unit: str) -> str:
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {prefix}{unit}"
    return f"{value:.0f} {unit}"


@dataclass(frozen=True, slots=True)
class Kpi:
    key: str
    title: str
    tooltip: str
    read: Callable[[Snapshot], tuple[str, str]]  # text and level
    si_unit: str  # of the figure shown (converted for display where ``twin.gui.units`` says)


def site_kpis(scenario: Scenario, system: UnitSystem = UnitSystem.SI) -> tuple[Kpi, ...]:
    throttle_c = min(t.gpu_throttle_c for t in scenario.rack_types.values())
    temperature = conversion("°C", system)

    def grid(s: Snapshot) -> tuple[str, str]:
        used, cap = s.site["grid_import_kw"], s.power.grid_import_cap_kw
        level = ALARM if used > cap else WARNING if used > 0.95 * cap else NORMAL
        return f"{used / 1000:.1f} / {cap / 1000:.0f} MW", level

    def gpu(s: Snapshot) -> tuple[str, str]:
        t = s.site["gpu_temp_max_c"]
        level = ALARM if t >= throttle_c else WARNING if t >= throttle_c - 5 else NORMAL
        return f"{temperature.to_display(t):.1f} {temperature.unit}", level

    def throttled(s: Snapshot) -> tuple[str, str]:
        gpus, tripped = int(s.site["throttled_gpus"]), int(s.site["tripped_racks"])
        if tripped:
            return f"{gpus:,} · {tripped} racks tripped", ALARM
        return f"{gpus:,}", WARNING if gpus else NORMAL

    def soc(s: Snapshot) -> tuple[str, str]:
        value = s.site["bess_soc"]
        return f"{100 * value:.0f} %", WARNING if value < scenario.power.bess.soc_min + 0.05 \
            else NORMAL

    return (
        Kpi("it", "IT power", "electrical power into the racks",
            lambda s: (f"{s.site['it_power_kw'] / 1000:.1f} MW", NORMAL), "MW"),
        Kpi("facility", "Facility power", "all power the site uses",
            lambda s: (f"{s.site['facility_power_kw'] / 1000:.1f} MW", NORMAL), "MW"),
        Kpi("pue", "PUE", "facility power over IT power",
            lambda s: (f"{s.site['pue']:.3f}", NORMAL), ""),
        Kpi("tokens", "Tokens/s", "useful AI work delivered",
            lambda s: (_si(s.site["tokens_per_s"], "tok/s"), NORMAL), "tok/s"),
        Kpi("grid", "Grid import", "power drawn from the utility against the import cap", grid,
            "MW"),
        Kpi("bess", "BESS SoC", "battery state of charge", soc, "%"),
        Kpi("gpu", "Hottest GPU", "throttling starts at "
            f"{temperature.to_display(throttle_c):g} {temperature.unit}", gpu, "°C"),
        Kpi("throttled", "Throttled GPUs", "GPUs shedding power to stay below the limit",
            throttled, ""),
        Kpi("cost", "Cost", "electricity cost at the time-of-use tariff",
            lambda s: (f"₩{s.site['cost_krw_per_h'] / 1e6:.2f} M/h", NORMAL), "₩/h"),
        Kpi("co2", "CO₂", "emissions of grid import and generators",
            lambda s: (f"{s.site['co2_kg_per_h'] / 1000:.1f} t/h", NORMAL), "t/h"),
    )

class KpiStrip(QFrame):
    def __init__(self, kpis: tuple[Kpi, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("kpiStrip")
        self._kpis = kpis
        self.values: dict[str, QLabel] = {}
        self._titles: dict[str, QLabel] = {}
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 6, 12, 6)
        row.setSpacing(22)
        for kpi in kpis:
            tile = QVBoxLayout()
            tile.setSpacing(0)
            title = QLabel(kpi.title.upper())
            title.setObjectName("kpiTitle")
            value = QLabel("—")
            value.setObjectName("kpiValue")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            for label in (title, value):
                label.setToolTip(kpi.tooltip)
                tile.addWidget(label)
            row.addLayout(tile)
            self.values[kpi.key] = value
            self._titles[kpi.key] = title
        row.addStretch(1)

    def set_kpis(self, kpis: tuple[Kpi, ...]) -> None:
        """The same figures told differently (in other units); shown from the next
        snapshot."""
        if [kpi.key for kpi in kpis] != [kpi.key for kpi in self._kpis]:
            raise ValueError("the strip's figures cannot change, only how they are shown")
        self._kpis = kpis
        for kpi in kpis:
            for label in (self._titles[kpi.key], self.values[kpi.key]):
                label.setToolTip(kpi.tooltip)

    def update_snapshot(self, snapshot: Snapshot) -> None:
        for kpi in self._kpis:
            text, level = kpi.read(snapshot)
            label = self.values[kpi.key]
            label.setText(text)
            if label.property("level") != level:
                label.setProperty("level", level)
                label.style().unpolish(label)  # re-read the style sheet for the new level
                label.style().polish(label)
