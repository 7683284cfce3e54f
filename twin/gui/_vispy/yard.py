"""The cooling yard: dry coolers with turning fans, chillers and facility pumps.

Running units light up. The fans on top of the dry coolers turn at the simulated fan
speed, but slowed down: a real fan's ~10 revolutions a second would alias at 30 frames a
second into a crawl or a backward spin, so a rotor turns ``FAN_REV_PER_S`` at full speed.
"""

from __future__ import annotations

import time

import numpy as np
from vispy.scene import visuals

from twin.gui._vispy.base import Adapter, LabelBoard, ScenePalette, rgba, set_visible
from twin.gui._vispy.instances import BoxBatch, box_group, send_transforms
from twin.gui._vispy.scene_text import (
    CHILLERS,
    COOLING_YARD,
    DRY_COOLERS,
    FACILITY_WATER,
    FANS,
    tr,
)
from twin.gui.units import UnitSystem, conversion
from twin.sim.layout import Boxes, Layout
from twin.sim.snapshot import Snapshot

DRY_COOLER_RUNNING = rgba("#7fb3e0")
CHILLER_RUNNING = rgba("#3fb8a8")
STOPPED = rgba("#7d848c")
PUMP = rgba("#5f7a8a")
FAN_BLADES = rgba("#2c3640")
FAN_PITCH_M = 2.0  # along a dry cooler; its fans are 1.8 m rotors, one row on its top
FAN_DIAMETER_M = 1.8
MIN_FAN_PX = 2.0
FAN_REV_PER_S = 1.0  # at full speed, as drawn (see above)
MAX_FRAME_S = 0.1  # a longer gap (a pause, a single step) does not make the fans jump
PICKABLE = ("dry_coolers", "chillers", "facility_pumps")


def _running_colors(count: int, running: int, on: np.ndarray, brightness: float = 1.0):
    colors = np.tile(STOPPED, (count, 1))
    lit = on.copy()
    lit[:3] *= brightness
    colors[: max(0, min(running, count))] = lit
    return colors


def _rotor(blades: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """A flat rotor of unit diameter in the xy plane: one triangle a blade, narrow at the
    hub and wide at the tip, cheap enough for thousands of fans."""
    vertices = []
    for k in range(blades):
        angle = 2 * np.pi * k / blades
        along = np.array([np.cos(angle), np.sin(angle), 0.0])
        across = np.array([-along[1], along[0], 0.0])
        vertices += [0.03 * along, 0.48 * along - 0.12 * across, 0.48 * along + 0.12 * across]
    return np.array(vertices, np.float32), np.arange(3 * blades, dtype=np.uint32).reshape(-1, 3)


def fan_positions(dry_coolers: Boxes) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the fans on top of each dry cooler and the cooler each belongs to."""
    per_unit = np.maximum(1, (dry_coolers.size_m[:, 0] // FAN_PITCH_M).astype(int))
    unit = np.repeat(np.arange(dry_coolers.count), per_unit)
    slot = np.arange(len(unit)) - np.repeat(np.cumsum(per_unit) - per_unit, per_unit)
    centers = dry_coolers.center_m[unit].copy()
    centers[:, 0] += (slot - (per_unit[unit] - 1) / 2) * FAN_PITCH_M
    centers[:, 2] = dry_coolers.upper_m[unit, 2] + 0.05  # just clear of the top
    return centers, unit


class YardAdapter(Adapter):
    """Dry coolers, chillers and pumps in one ``BoxBatch`` (groups by those names); the
    fans, another shape, in a mesh of their own."""

    layer = "hydraulic"

    def __init__(self, layout: Layout, parent, palette: ScenePalette, labels: LabelBoard) -> None:
        super().__init__(parent, labels)
        self._boxes = {kind: getattr(layout, kind) for kind in PICKABLE}
        self._dry_count = layout.dry_coolers.count
        self._chiller_count = layout.chillers.count
        self.boxes = BoxBatch(
            {
                "dry_coolers": box_group(layout.dry_coolers, STOPPED),
                "chillers": box_group(layout.chillers, STOPPED),
                "pumps": box_group(layout.facility_pumps, PUMP),
            },
            self.root,
        )
        self.fans = None
        self.fan_unit = np.zeros(0, int)  # per fan: the dry cooler it sits on
        self.fan_angle = np.zeros(0)
        self.fan_rev_per_s = np.zeros(0)
        if self._dry_count:
            centers, self.fan_unit = fan_positions(layout.dry_coolers)
            # random starting angles: a yard of fans in lockstep looks like one machine
            self.fan_angle = np.random.default_rng(7).uniform(0, 2 * np.pi, len(centers))
            self.fan_rev_per_s = np.zeros(len(centers))
            vertices, faces = _rotor()
            self.fans = visuals.InstancedMesh(
                vertices,
                faces,
                color="white",
                instance_positions=centers.astype(np.float32),
                instance_transforms=self._fan_transforms(),
                instance_colors=np.tile(FAN_BLADES, (len(centers), 1)),
                parent=self.root,
            )
            self.fans.set_gl_state("opaque", depth_test=True, cull_face=False)
        rect = layout.yard_rect_m
        corner = (rect[0], rect[3], 3.0)
        self.title = self._label(tr(COOLING_YARD), corner, size=11, bold=True, rank=3)
        self.status = self._label("", corner, size=8, below=True, rank=2)
        self.temperature = conversion("°C", UnitSystem.SI)  # how the status line shows it
        self._clock: float | None = None
        self.apply_palette(palette)

    def _fan_transforms(self) -> np.ndarray:
        cos, sin = np.cos(self.fan_angle), np.sin(self.fan_angle)
        transforms = np.zeros((len(cos), 3, 3), np.float32)
        transforms[:, 0, 0] = transforms[:, 1, 1] = FAN_DIAMETER_M * cos
        transforms[:, 0, 1] = -FAN_DIAMETER_M * sin
        transforms[:, 1, 0] = FAN_DIAMETER_M * sin
        transforms[:, 2, 2] = 1.0
        return transforms

    def update(self, snapshot: Snapshot) -> None:
        plant = snapshot.plant
        speed = float(np.clip(plant.dry_cooler_fan_speed, 0.0, 1.0))
        brightness = 0.7 + 0.3 * speed
        self.boxes.set_colors(
            "dry_coolers",
            _running_colors(
                self._dry_count, plant.dry_coolers_running, DRY_COOLER_RUNNING, brightness
            ),
        )
        # the plant runs its first ``dry_coolers_running`` units, all at one speed
        self.fan_rev_per_s = np.where(
            self.fan_unit < plant.dry_coolers_running, FAN_REV_PER_S * speed, 0.0
        )
        self.boxes.set_colors(
            "chillers",
            _running_colors(self._chiller_count, plant.chillers_running, CHILLER_RUNNING),
        )
        self.boxes.send()
        self.animate()

    def animate(self) -> bool:
        """Turn the fans on by the wall time since they last turned; whether they are shown
        (and a frame would show them turn)."""
        now = time.monotonic()
        self.advance(0.0 if self._clock is None else min(now - self._clock, MAX_FRAME_S))
        self._clock = now
        return self.fans is not None and self.root.visible and self.fans.visible

    def update_labels(self, snapshot: Snapshot) -> None:
        plant, t = snapshot.plant, self.temperature
        speed = float(np.clip(plant.dry_cooler_fan_speed, 0.0, 1.0))
        self.set_text(
            self.status,
            " · ".join(
                (
                    tr(
                        FACILITY_WATER,
                        supply=f"{t.to_display(plant.fws_supply_c):.1f}",
                        ret=f"{t.to_display(plant.fws_return_c):.1f} {t.unit}",
                    ),
                    tr(DRY_COOLERS, running=plant.dry_coolers_running, total=self._dry_count),
                    tr(FANS, percent=f"{100 * speed:.0f}"),
                    tr(CHILLERS, running=plant.chillers_running, total=self._chiller_count),
                )
            ),
        )

    def set_scale(self, px_per_m: float) -> None:
        """Level of detail: the fans show while they are ``MIN_FAN_PX`` across on screen at
        ``px_per_m`` (smaller, their turning cannot be seen)."""
        if self.fans is not None:
            set_visible(self.fans, px_per_m * FAN_DIAMETER_M >= MIN_FAN_PX)

    def advance(self, dt_s: float) -> None:
        """Turn the fans on by ``dt_s`` seconds of wall time; hidden fans stand still."""
        if self.fans is None or not (self.root.visible and self.fans.visible):
            return
        self.fan_angle = (self.fan_angle + 2 * np.pi * self.fan_rev_per_s * dt_s) % (2 * np.pi)
        send_transforms(self.fans, self._fan_transforms())
