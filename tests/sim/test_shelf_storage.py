"""The power shelves' energy storage: each step's energy balance, its limits, the site's
ledger still closing with it, the swing it takes out of the grid draw, and its place in
`twin power-quality` (off unless a scenario sizes it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.cli import main
from twin.grid.power_quality import check, run_check, site_draw, spectrum, with_smoothing
from twin.resources import resource_dir
from twin.scenario import load
from twin.sim.engine import Simulation
from twin.sim.shelf_storage import ShelfStorage
from twin.sim.snapshot import SITE_COLUMNS

DT_S = 0.1
SHELF_TOML = """
[power.shelf_storage]
j_per_gpu = {j_per_gpu}
time_constant_s = 5
efficiency = 0.98
"""


def _square_swing(steps: int, high_w: float = 150e3, low_w: float = 60e3) -> np.ndarray:
    t = np.arange(steps) * DT_S
    return np.where((t % 2.0) < 1.0, high_w, low_w)


def test_each_step_balances_feed_store_and_loss() -> None:
    store = ShelfStorage.of(600.0, np.array([72, 72]), 5.0, 0.95)
    powered = np.array([True, False])
    for draw in _square_swing(400):
        draw_w = np.array([draw, draw])
        before_j = store.stored_j.copy()
        feed_w, loss_w = store.step(draw_w, DT_S, powered)
        from_store_w = (before_j - store.stored_j) / DT_S
        np.testing.assert_allclose(feed_w + from_store_w, draw_w + loss_w, rtol=1e-12)
        assert (loss_w >= -1e-9).all()
        assert ((store.stored_j >= 0) & (store.stored_j <= store.capacity_j)).all()
        assert feed_w[1] == draw_w[1] and loss_w[1] == 0.0  # a rack without power
    assert store.stored_j[1] == 0.5 * store.capacity_j[1]


def test_a_store_large_enough_flattens_a_swing_and_a_small_one_runs_out() -> None:
    def feed_swing(j_per_gpu: float) -> float:
        store = ShelfStorage.of(j_per_gpu, np.array([72]), 5.0, 1.0)
        feeds = [
            store.step(np.array([d]), DT_S, np.array([True]))[0][0] for d in _square_swing(1200)
        ]
        late = np.array(feeds[600:])
        return float(late.max() - late.min())

    # 45 kW above the mean for 1 s of every 2 s: 45 kJ a half-period, 625 J per GPU
    assert feed_swing(2000.0) < 0.2 * 90e3
    assert feed_swing(50.0) > 0.8 * 90e3  # 3.6 kJ: empty and full within each phase


def _swinging_rack():
    s = load("single-rack")
    job = s.workloads[0].model_copy(
        update={"comm_utilization": 0.15, "comm_fraction": 0.3, "iteration_period_s": 2.0}
    )
    return s.model_copy(update={"workloads": [job]})


def _with_shelves(scenario, j_per_gpu: float):
    from twin.scenario.schema import ShelfStorage as ShelfSpec

    shelf = ShelfSpec(j_per_gpu=j_per_gpu, time_constant_s=5.0, efficiency=0.98)
    return scenario.model_copy(
        update={"power": scenario.power.model_copy(update={"shelf_storage": shelf})}
    )


def test_the_shelves_are_off_unless_a_scenario_sizes_them() -> None:
    assert load("single-rack").power.shelf_storage is None
    assert load("seoul-ai-factory").power.shelf_storage is None
    assert Simulation(load("single-rack")).shelf_storage is None


def test_the_site_ledger_closes_with_the_shelves_and_their_swing_is_gone() -> None:
    scenario = _with_shelves(_swinging_rack(), 1200.0)
    sim = Simulation(scenario, dt_s=DT_S)
    sim.step(900)
    closure = sim.site_values()[[n for n, _ in SITE_COLUMNS].index("energy_closure_error")]
    assert abs(closure) < 1e-9
    plain = site_draw(with_smoothing(scenario, None, False), 30, DT_S, 20)
    shelved = site_draw(with_smoothing(scenario, None, False, shelf_storage=True), 30, DT_S, 20)
    assert check(spectrum(plain.power_kw, DT_S)).worst_relative > 0.35
    assert check(spectrum(shelved.power_kw, DT_S)).worst_relative < 0.05


def test_power_quality_shows_the_shelves_as_a_case_of_their_own(tmp_path: Path, capsys) -> None:
    scenario = _with_shelves(_swinging_rack(), 1200.0)
    result = run_check(scenario, 20.0, DT_S, settle_s=10.0)
    labels = [case.label for case in result.cases]
    assert labels[-1] == "power-shelf storage (1200 J per GPU)" and len(labels) == 5
    assert result.cases[-1].compliance.passes and not result.cases[0].compliance.passes
    # the cases without it run without it: the unsmoothed one is the plain site's
    plain = run_check(_swinging_rack(), 20.0, DT_S, settle_s=10.0)
    np.testing.assert_array_equal(
        plain.cases[0].spectrum.amplitude_kw, result.cases[0].spectrum.amplitude_kw
    )
    text = (resource_dir() / "scenarios" / "single-rack.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text + SHELF_TOML.format(j_per_gpu=0), encoding="utf-8")
    assert main(["check", str(bad)]) == 2
    assert "j_per_gpu" in capsys.readouterr().err


@pytest.mark.parametrize("j_per_gpu", [600])
def test_a_scenario_file_sizes_the_shelves(tmp_path: Path, j_per_gpu: int) -> None:
    text = (resource_dir() / "scenarios" / "single-rack.toml").read_text(encoding="utf-8")
    path = tmp_path / "shelves.toml"
    path.write_text(text + SHELF_TOML.format(j_per_gpu=j_per_gpu), encoding="utf-8")
    shelf = load(path).power.shelf_storage
    assert shelf is not None and shelf.j_per_gpu == j_per_gpu and shelf.efficiency == 0.98
