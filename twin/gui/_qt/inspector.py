"""The inspector dock: the values of the selected rack, refreshed from each snapshot."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from twin.sim.snapshot import Snapshot
from twin.sim.topology import Topology

_ROWS: tuple[tuple[str, str], ...] = (
    ("state", "State"),
    ("gpu_temp", "GPU temperature"),
    ("inlet", "Coolant inlet"),
    ("outlet", "Coolant outlet"),
    ("flow", "Coolant flow"),
    ("power", "Power"),
    ("heat", "Heat to liquid"),
    ("utilization", "Utilization"),
    ("tokens", "Tokens/s"),
)


class RackInspector(QWidget):
    def __init__(self, topology: Topology, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._topology = topology
        self.rack: int | None = None
        self._snapshot: Snapshot | None = None
        column = QVBoxLayout(self)
        self.title = QLabel()
        self.title.setObjectName("inspectorTitle")
        self.where = QLabel()
        self.where.setObjectName("muted")
        column.addWidget(self.title)
        column.addWidget(self.where)
        form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        for key, label in _ROWS:
            value = QLabel("—")
            self.values[key] = value
            form.addRow(label, value)
        column.addLayout(form)
        column.addStretch(1)
        self.show_rack(None)

    def show_rack(self, index: int | None) -> None:
        self.rack = index
        topo = self._topology
        if index is None:
            self.title.setText("No rack selected")
            self.where.setText("Click a rack in the 3D view.")
        else:
            self.title.setText(topo.rack_name(index))
            self.where.setText(
                f"{topo.hall_names[topo.rack_hall[index]]} · row "
                f"{topo.row_names[topo.rack_row[index]]} · "
                f"{topo.cdu_names[topo.rack_cdu[index]]} · "
                f"{topo.rack_type_names[topo.rack_type[index]]}")
        self._refresh()

    def update_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._refresh()

    def _refresh(self) -> None:
        i, snap = self.rack, self._snapshot
        if i is None or snap is None:
            for value in self.values.values():
                value.setText("—")
            return
        r = snap.racks
        state = "TRIPPED" if r.tripped[i] else "throttled" if r.throttled[i] else "normal"
        texts = {
            "state": state,
            "gpu_temp": f"{r.gpu_temp_c[i]:.1f} °C",
            "inlet": f"{r.inlet_temp_c[i]:.1f} °C",
            "outlet": f"{r.outlet_temp_c[i]:.1f} °C",
            "flow": f"{r.flow_lpm[i]:.0f} L/min",
            "power": f"{r.power_kw[i]:.1f} kW",
            "heat": f"{r.liquid_heat_kw[i]:.1f} kW",
            "utilization": f"{100 * r.utilization[i]:.0f} %",
            "tokens": f"{r.tokens_per_s[i]:,.0f}",
        }
        for key, text in texts.items():
            self.values[key].setText(text)
