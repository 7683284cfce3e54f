"""The power chain: utility feed, main transformers, BESS, generators and each hall's
electrical room (transformers and UPS), coloured by how hard each is loaded."""

from __future__ import annotations

import numpy as np
from vispy.color import Colormap

from twin.gui._vispy.base import Adapter, LabelBoard, ScenePalette, rgba
from twin.gui._vispy.geometry import scale_transforms
from twin.gui._vispy.instances import BoxBatch, box_group
from twin.gui._vispy.scene_text import (
    BESS_CHARGING_LABEL,
    BESS_DISCHARGING_LABEL,
    BESS_IDLE_LABEL,
    GENERATORS,
    LOADED,
    SUBSTATION,
    UTILITY_LOST,
    UTILITY_ON,
    tr,
)
from twin.gui.kpis import bess_state
from twin.scenario import Scenario
from twin.sim.layout import Boxes, Layout
from twin.sim.snapshot import Snapshot

# grey when idle, green through normal loading, amber nearing the rating, red above it
LOADING = Colormap(
    ["#7d8a96", "#5e9e6c", "#5e9e6c", "#ffb300", "#ff8f00"], controls=[0.0, 0.4, 0.7, 0.9, 1.0]
)
OVERLOADED = rgba("#e53935")
BESS_IDLE = rgba("#7a9a8a")
BESS_DISCHARGING = rgba("#ffb300")
BESS_CHARGING = rgba("#42a5f5")
CHARGE = rgba("#66bb6a")
GENERATOR_RUNNING = rgba("#ff7043")
GENERATOR_STOPPED = rgba("#6d7278")
GENERATOR_STARTING = rgba("#ffca28")
GENERATOR_FAILED = rgba("#d50000")
LINE_LIVE = rgba("#4fc3f7")
LINE_DEAD = rgba("#e53935")
FEED_HEIGHT_M = 1.5  # over the transformer tops, where the HV bushings are
FEED_APPROACH_M = 15.0  # the line comes in from this far south of the substation pad
CONDUCTOR_M = 0.3  # drawn thicker than a real conductor, to be seen from the site view
BAR_WIDTH_M = 0.7  # the state-of-charge bar on each BESS container's roof
BAR_HEIGHT_M = 0.2
PICKABLE = ("main_transformers", "electrical_rooms", "bess", "generators")


def loading_rgba(loading: np.ndarray) -> np.ndarray:
    """(n, 4) colours of equipment at ``loading`` (0-1 of the units in service)."""
    loading = np.atleast_1d(np.asarray(loading, float))
    colors = LOADING.map(np.clip(loading, 0.0, 1.0)).astype(np.float32)
    colors[loading > 1.0] = OVERLOADED
    return colors


def _halves(rooms: Boxes) -> tuple[Boxes, Boxes]:
    """Each electrical room cut in two along y: the transformer end north, the UPS south."""
    size = rooms.size_m.copy()
    size[:, 1] /= 2
    shift = np.zeros_like(size)
    shift[:, 1] = size[:, 1] / 2
    return Boxes(rooms.center_m + shift, size), Boxes(rooms.center_m - shift, size)


def _segment_boxes(points: np.ndarray, thickness: float) -> Boxes:
    """Boxes along axis-aligned segments given as (n, 2, 3) end points."""
    start, end = points[:, 0], points[:, 1]
    return Boxes((start + end) / 2, np.abs(end - start) + thickness)


def feed_line(transformers: Boxes, pad_rect: np.ndarray) -> Boxes:
    """The utility's HV line: in from the south to a bus west of the transformers, and a
    drop onto each transformer's top."""
    x = transformers.lower_m[:, 0].min() - 2.0
    z = transformers.upper_m[:, 2].max() + FEED_HEIGHT_M
    south = pad_rect[1] - FEED_APPROACH_M
    north = transformers.center_m[:, 1].max()
    segments = [((x, south, 0.0), (x, south, z)), ((x, south, z), (x, north, z))]
    for y, lower, upper in zip(
        transformers.center_m[:, 1], transformers.lower_m, transformers.upper_m, strict=True
    ):
        tap = (lower[0] + 1.0, y, z)
        segments += [((x, y, z), tap), (tap, (tap[0], y, upper[2]))]
    return _segment_boxes(np.array(segments, float), CONDUCTOR_M)


class SubstationAdapter(Adapter):
    """All the power chain's boxes in one ``BoxBatch``, groups named after the equipment:
    transformers, hall_transformers, hall_ups, feed, bess, charge, charge_track,
    generators (the last four where the site has them)."""

    layer = "electrical"

    def __init__(
        self, scenario: Scenario, layout: Layout, parent, palette: ScenePalette, labels: LabelBoard
    ) -> None:
        super().__init__(parent, labels)
        mains = scenario.power.main_transformers
        self._kv = f"{mains.hv_kv:g}/{mains.lv_kv:g} kV"
        self._boxes = {kind: getattr(layout, kind) for kind in PICKABLE}
        self._generator_count = layout.generators.count
        self._bess_count = layout.bess.count
        idle = loading_rgba(np.zeros(1))[0]
        hall_transformers, hall_ups = _halves(layout.electrical_rooms)
        groups = {
            "transformers": box_group(layout.main_transformers, idle),
            "hall_transformers": box_group(hall_transformers, idle, shrink_m=0.2),
            "hall_ups": box_group(hall_ups, idle, shrink_m=0.2),
            "feed": box_group(
                feed_line(layout.main_transformers, layout.substation_rect_m), LINE_LIVE
            ),
        }
        if self._bess_count:
            bess = layout.bess
            self._bar_length = bess.size_m[:, 0] - 0.6
            self._bar_west = bess.lower_m[:, 0] + 0.3
            self._bar_center = bess.center_m.copy()
            self._bar_center[:, 2] = bess.upper_m[:, 2] + BAR_HEIGHT_M / 2 + 0.02
            charged, empty = self._charge_bars(0.0)
            groups |= {
                "bess": box_group(bess, BESS_IDLE),
                "charge": box_group(charged, CHARGE),
                "charge_track": box_group(empty, np.ones(4, np.float32)),
            }
        if self._generator_count:
            groups["generators"] = box_group(layout.generators, GENERATOR_STOPPED)
        self.boxes = BoxBatch(groups, self.root)
        rect = layout.substation_rect_m
        corner = (rect[0], rect[3], 3.0)
        self.title = self._label(tr(SUBSTATION), corner, size=11, bold=True, rank=3)
        self.status = self._label("", corner, size=8, below=True, rank=2)
        self.apply_palette(palette)

    def _charge_bars(self, soc: float) -> tuple[Boxes, Boxes]:
        """The charged (west) and empty (east) parts of the bar on each BESS roof; the two
        never overlap, so that no two faces fight for the same pixels."""
        charged = np.maximum(self._bar_length * np.clip(soc, 0.0, 1.0), 1e-3)
        empty = np.maximum(self._bar_length - charged, 1e-3)
        bars = []
        for west, length in ((self._bar_west, charged), (self._bar_west + charged, empty)):
            center = self._bar_center.copy()
            center[:, 0] = west + length / 2
            size = np.column_stack(
                [length, np.full(len(length), BAR_WIDTH_M), np.full(len(length), BAR_HEIGHT_M)]
            )
            bars.append(Boxes(center, size))
        return bars[0], bars[1]

    def update(self, snapshot: Snapshot) -> None:
        power, site, boxes = snapshot.power, snapshot.site, self.boxes
        boxes.set_colors(
            "transformers", loading_rgba(np.array([power.main_transformer_loading]))[0]
        )
        boxes.set_colors("hall_transformers", loading_rgba(power.hall_transformer_loading))
        boxes.set_colors("hall_ups", loading_rgba(power.hall_ups_loading))
        boxes.set_colors("feed", LINE_LIVE if power.utility_available else LINE_DEAD)
        bess_kw = site["bess_power_kw"]
        if "bess" in boxes:
            boxes.set_colors(
                "bess",
                BESS_DISCHARGING
                if bess_state(bess_kw) == "discharging"
                else BESS_CHARGING
                if bess_state(bess_kw) == "charging"
                else BESS_IDLE,
            )
            for name, bars in zip(
                ("charge", "charge_track"), self._charge_bars(site["bess_soc"]), strict=True
            ):
                boxes.place(name, bars.center_m, scale_transforms(bars.size_m))
        if "generators" in boxes:
            # by state code (twin.sim.power.GENERATOR_STATES): off, starting, running, failed
            palette = np.array(
                [GENERATOR_STOPPED, GENERATOR_STARTING, GENERATOR_RUNNING, GENERATOR_FAILED]
            )
            boxes.set_colors("generators", palette[power.generator_state])
        boxes.send()

    def update_labels(self, snapshot: Snapshot) -> None:
        power, site = snapshot.power, snapshot.site
        self.set_text(
            self.status,
            " · ".join(
                (
                    self._kv,
                    tr(LOADED, percent=f"{100 * power.main_transformer_loading:.0f}"),
                    tr(UTILITY_ON if power.utility_available else UTILITY_LOST),
                    self._bess_text(site["bess_soc"], site["bess_power_kw"]),
                    tr(GENERATORS, online=power.generators_online, total=self._generator_count),
                )
            ),
        )

    @staticmethod
    def _bess_text(soc: float, power_kw: float) -> str:
        """The battery's charge and what it does, its power unsigned."""
        phrase = {"charging": BESS_CHARGING_LABEL, "discharging": BESS_DISCHARGING_LABEL}.get(
            bess_state(power_kw), BESS_IDLE_LABEL
        )
        return tr(phrase, soc=f"{100 * soc:.0f}", power=f"{abs(power_kw) / 1000:.1f} MW")

    def apply_palette(self, palette: ScenePalette) -> None:
        super().apply_palette(palette)
        if "charge_track" in self.boxes:
            # the empty part of a bar reads as a groove: darker than the ground
            track = np.asarray(palette.ground, np.float32) * np.array([0.6, 0.6, 0.6, 1.0])
            self.boxes.set_colors("charge_track", track)
            self.boxes.send()
