"""Slow, eased camera flights between viewpoints, with a gentle orbit once there.

The window's own flights (``CanvasWrapper.go_to``) take 0.7 s, right for a user's click;
a tour wants seconds-long moves that start and stop softly, and some life while a step
holds. ``CameraDirector`` drives any camera with ``center``, ``distance``, ``elevation``
and ``azimuth`` (vispy's TurntableCamera); no GUI toolkit here.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class TurntableLike(Protocol):
    center: tuple[float, float, float]
    distance: float
    elevation: float
    azimuth: float

    def view_changed(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Pose:
    center: tuple[float, float, float]
    distance: float
    elevation: float
    azimuth: float

    @classmethod
    def of(cls, camera: TurntableLike) -> Pose:
        x, y, z = (float(c) for c in camera.center)
        return cls(
            (x, y, z),
            float(camera.distance),
            float(camera.elevation),
            float(camera.azimuth),
        )


def ease_in_out(t: float) -> float:
    """Smootherstep: zero speed and zero acceleration at both ends."""
    t = min(max(t, 0.0), 1.0)
    return t * t * t * (t * (6.0 * t - 15.0) + 10.0)


def between(a: Pose, b: Pose, s: float) -> Pose:
    """The pose a share ``s`` of the way from ``a`` to ``b``."""
    turn = (b.azimuth - a.azimuth + 180.0) % 360.0 - 180.0  # the short way round
    x, y, z = (ca + s * (cb - ca) for ca, cb in zip(a.center, b.center, strict=True))
    return Pose(
        (x, y, z),
        a.distance * (b.distance / a.distance) ** s,  # geometric: even feel at any range
        a.elevation + s * (b.elevation - a.elevation),
        a.azimuth + s * turn,
    )


class CameraDirector:
    def __init__(
        self, camera: TurntableLike, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.camera = camera
        self.clock = clock
        self._flight: tuple[float, Pose, Pose, float, float] | None = None

    @property
    def active(self) -> bool:
        return self._flight is not None

    def fly(self, target: Pose, flight_s: float, orbit_deg_per_s: float = 0.0) -> None:
        """Fly to ``target`` in ``flight_s`` seconds, then keep turning about its centre."""
        self._flight = (self.clock(), Pose.of(self.camera), target, flight_s, orbit_deg_per_s)
        self.advance()

    def stop(self) -> None:
        """Leave the camera where it is (to a visitor)."""
        self._flight = None

    def advance(self) -> None:
        """Move the camera to where it should be now; called once per frame."""
        if self._flight is None:
            return
        started, start, target, flight_s, orbit = self._flight
        elapsed = self.clock() - started
        # the orbit runs from the flight's start, so that the move blends into it
        moving = Pose(
            target.center, target.distance, target.elevation, target.azimuth + orbit * elapsed
        )
        s = ease_in_out(elapsed / flight_s) if flight_s > 0 else 1.0
        pose = between(start, moving, s)
        if s >= 1.0 and orbit == 0.0:
            self._flight = None
        place(self.camera, pose)


def place(camera: TurntableLike, pose: Pose) -> None:
    """Put ``camera`` at ``pose``. vispy's camera recomputes the scene's transforms at each
    property it is given (four times a frame, at a cost of about a millisecond each under
    load); under its update block it does so once, for all four."""
    block = getattr(camera, "_block_updates", None)
    with block() if block is not None else contextlib.nullcontext():
        camera.center = pose.center
        camera.distance = pose.distance
        camera.elevation = pose.elevation
        camera.azimuth = pose.azimuth
    if block is not None:
        camera.view_changed()
