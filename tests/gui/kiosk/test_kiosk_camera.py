"""Camera flights: eased at both ends, on time, the short way round, then a slow orbit."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from twin.gui.kiosk.camera import CameraDirector, Pose, ease_in_out


@dataclass
class Camera:
    center: tuple[float, float, float] = (0.0, 0.0, 0.0)
    distance: float = 100.0
    elevation: float = 30.0
    azimuth: float = 170.0


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_easing_starts_and_ends_at_rest() -> None:
    assert ease_in_out(0.0) == 0.0 and ease_in_out(1.0) == 1.0
    assert ease_in_out(-1.0) == 0.0 and ease_in_out(2.0) == 1.0
    h = 1e-4
    assert ease_in_out(h) / h == pytest.approx(0.0, abs=1e-6)  # no jolt at the start
    assert (1.0 - ease_in_out(1.0 - h)) / h == pytest.approx(0.0, abs=1e-6)
    samples = [ease_in_out(i / 100) for i in range(101)]
    assert samples == sorted(samples)


def test_a_flight_arrives_on_time_the_short_way_round_and_stops() -> None:
    camera, clock = Camera(), Clock()
    director = CameraDirector(camera, clock=clock)
    target = Pose((50.0, -20.0, 1.0), 400.0, 50.0, -170.0)
    director.fly(target, flight_s=4.0)
    assert (camera.center, camera.azimuth) == ((0.0, 0.0, 0.0), 170.0)  # starts where it was
    clock.now = 2.0
    director.advance()
    assert camera.center == pytest.approx((25.0, -10.0, 0.5))
    assert camera.distance == pytest.approx(200.0)  # halfway on a geometric zoom
    assert camera.azimuth == pytest.approx(180.0)  # through 180, not back through 0
    clock.now = 4.0
    director.advance()
    assert (camera.center, camera.distance, camera.elevation) == ((50.0, -20.0, 1.0), 400.0, 50.0)
    assert camera.azimuth == pytest.approx(190.0)
    assert not director.active


def test_an_orbit_keeps_turning_after_the_flight_until_stopped() -> None:
    camera, clock = Camera(), Clock()
    director = CameraDirector(camera, clock=clock)
    director.fly(Pose((0.0, 0.0, 0.0), 100.0, 30.0, 0.0), flight_s=0.0, orbit_deg_per_s=3.0)
    assert camera.azimuth == pytest.approx(0.0)
    clock.now = 10.0
    director.advance()
    assert camera.azimuth == pytest.approx(30.0)
    director.stop()
    clock.now = 20.0
    director.advance()
    assert camera.azimuth == pytest.approx(30.0)  # left to the visitor
