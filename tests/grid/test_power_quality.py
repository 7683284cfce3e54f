"""The swing spectrum against synthetic swings of known amplitude and frequency, and the
smoothing search verified by running the site again with its answer."""

from __future__ import annotations

import numpy as np
import pytest

from twin.grid.power_quality import (
    check,
    least_smoothing,
    site_draw,
    spectrum,
    with_smoothing,
)
from twin.scenario import load

DT_S = 0.1


@pytest.mark.parametrize(
    ("frequency_hz", "amplitude_kw"), [(0.73, 300.0), (2.31, 50.0), (0.2, 120.0)]
)
def test_a_sinusoidal_swing_is_recovered_within_two_percent(
    frequency_hz: float, amplitude_kw: float
) -> None:
    t = np.arange(0, 120, DT_S)
    draw = 1000.0 + amplitude_kw * np.sin(2 * np.pi * frequency_hz * t + 0.4)
    s = spectrum(draw, DT_S)
    k = int(np.argmax(s.amplitude_kw))
    assert s.amplitude_kw[k] == pytest.approx(amplitude_kw, rel=0.02)
    assert s.frequency_hz[k] == pytest.approx(frequency_hz, abs=1 / 120)
    assert s.mean_kw == pytest.approx(1000.0, rel=1e-3)


def test_a_square_training_swing_has_its_fundamental_at_four_over_pi() -> None:
    # compute at 150 kW, communication at 60 kW, 1 s each: fundamental 0.5 Hz, amplitude
    # (4 / pi) x 45 kW
    t = np.arange(0, 120, DT_S)
    draw = np.where((t % 2.0) < 1.0, 150.0, 60.0)
    result = check(spectrum(draw, DT_S), limit=0.2)
    assert result.worst_hz == pytest.approx(0.5, abs=1 / 120)
    assert result.worst_relative == pytest.approx(4 / np.pi * 45 / 105, rel=0.02)
    assert not result.passes
    assert check(spectrum(draw, DT_S), limit=0.6).passes
    assert result.seen_hz == (0.1, 5.0)  # Nyquist at dt 0.1 s


def test_a_run_too_short_for_the_band_is_refused() -> None:
    with pytest.raises(ValueError, match="shows nothing"):
        check(spectrum(np.ones(20), DT_S), band_hz=(0.001, 0.01))


def _swinging_rack():
    s = load("single-rack")
    job = s.workloads[0].model_copy(
        update={"comm_utilization": 0.15, "comm_fraction": 0.3, "iteration_period_s": 2.0}
    )
    return s.model_copy(update={"workloads": [job]})


@pytest.mark.slow
def test_the_smoothing_search_is_confirmed_by_running_the_site_again() -> None:
    scenario = _swinging_rack()
    plain = site_draw(with_smoothing(scenario, None, bess_smoothing=False), 60, DT_S, 20)
    assert not check(spectrum(plain.power_kw, DT_S)).passes  # the swing breaks the limit
    steps = ((0.0, 8000.0), (0.0, 2000.0), (0.0, 500.0), (0.5, 500.0), (0.9, 125.0))
    found = least_smoothing(scenario, 60, DT_S, steps=steps, settle_s=20)
    assert found.setting is not None
    for setting, result in found.tried[:-1]:
        assert not result.passes, setting
    floor, ramp_down = found.setting
    again = site_draw(with_smoothing(scenario, floor, False, ramp_down), 60, DT_S, 20)
    rerun = check(spectrum(again.power_kw, DT_S))
    assert rerun.passes
    assert rerun.worst_relative == pytest.approx(found.compliance.worst_relative, rel=1e-9)
    assert found.extra_kwh == pytest.approx(again.energy_kwh - plain.energy_kwh, rel=1e-9)
    assert found.extra_kwh > 0  # slower descents and floors burn power
