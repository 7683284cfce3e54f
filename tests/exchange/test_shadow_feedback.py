"""The shadow's model follows the plant's tracked process drift: a plant (a simulation
published by its virtual BMS, with sensor noise and dropouts) whose L-CDU-02 exchanger
fouls, handed to shadows of the unfaulted scenario with and without the feedback."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from tests.exchange.test_shadow_estimation import CDU, Bench

DESIGN_UA_W_PER_K = 40e3  # three-cdu.toml's CDU type
FOUL_FROM_S = 600.0  # during the shadow's learning: its trackers start at 300 s
FOUL_RATE_PER_S = 0.5 / 1500.0  # UA falls by half of design in 25 min, on to the end
END_S = 2100.0
SCORED_S = 300.0  # residuals averaged over the run's last 5 min


def _foul(plant) -> None:
    fouled_s = max(plant.time_s - FOUL_FROM_S, 0.0)
    plant.cdus.hx_ua_w_per_k[CDU] = DESIGN_UA_W_PER_K * (1.0 - FOUL_RATE_PER_S * fouled_s)


def _fouling_run(follow_drift: bool) -> tuple[Bench, dict[str, float]]:
    """The run and L-CDU-02's mean absolute residual per quantity over its last minutes."""
    bench = Bench(follow_drift=follow_drift)
    shadow = bench.shadow
    watched = {
        p.quantity: i
        for i, p in enumerate(shadow.points)
        if p.component == "L-CDU-02"
        and p.quantity in ("cdu.return_temp_c", "cdu.supply_temp_c", "cdu.valve_pct")
    }
    residuals: dict[str, list[float]] = {q: [] for q in watched}
    scored: set[float] = set()

    def each_step(plant) -> None:
        _foul(plant)
        c = shadow.comparison
        if c is None or c.time_s < END_S - SCORED_S or c.time_s in scored:
            return
        scored.add(c.time_s)
        for quantity, i in watched.items():
            residuals[quantity].append(c.measured[i] - c.modelled[i])

    bench.run(END_S, each_step)
    assert len(scored) >= 20  # one evaluation each 10 s
    return bench, {q: float(np.nanmean(np.abs(r))) for q, r in residuals.items()}


def test_the_model_follows_a_fouling_exchanger_and_stays_on_the_plant():
    followed, with_feedback = _fouling_run(True)
    kept, without = _fouling_run(False)
    # the fouled CDU's return and supply temperatures and its facility valve: the model
    # that follows the tracked UA stays on the plant, the one that keeps design parts
    for quantity in ("cdu.return_temp_c", "cdu.supply_temp_c", "cdu.valve_pct"):
        assert with_feedback[quantity] * 3.0 <= without[quantity], (with_feedback, without)
    # the model's UA came close to the plant's, in limited steps, logged as applied
    true_ua = followed.plant.cdus.hx_ua_w_per_k[CDU]
    model_ua = followed.shadow.sim.cdus.hx_ua_w_per_k[CDU]
    assert abs(model_ua - true_ua) / true_ua < 0.10, (model_ua, true_ua)
    changes = [
        c
        for c in followed.shadow.feedback.applied
        if c.component == "L-CDU-02" and c.quantity == "exchanger_ua"
    ]
    assert len(changes) >= 5
    ratios = [1.0] + [c.ratio for c in changes]
    assert all(b < a and b >= 0.9 * a for a, b in pairwise(ratios))
    assert all(c.time_s >= 300.0 + 600.0 for c in changes)  # after a trusted band
    logged = followed.lines("model follows L-CDU-02 exchanger UA")
    assert len(logged) == len(changes) and "x design; tracked" in logged[-1]
    # the healthy CDUs' models stay by design (their tracked values do)
    for k in (0, 2):
        ratio = followed.shadow.sim.cdus.hx_ua_w_per_k[k] / DESIGN_UA_W_PER_K
        assert abs(ratio - 1.0) < 0.06, ratio
        assert abs(followed.shadow.sim.state.clog_factor[k] - 1.0) < 0.06
    # without feedback the model keeps the scenario's UA and nothing is applied
    assert kept.shadow.feedback is None
    assert kept.shadow.sim.cdus.hx_ua_w_per_k[CDU] == DESIGN_UA_W_PER_K


def test_a_sensor_offset_is_tracked_but_not_applied_to_the_model():
    # L-CDU-02's supply sensor reads 1.5 K high from 20 min (Bench's FAULT_AT_S)
    bench = Bench(sensor=lambda value: value + 1.5, quantity="cdu.supply_temp_c")
    bench.run(2100.0)
    offset = next(
        v
        for v in bench.shadow.estimation.values()
        if v.component == "L-CDU-02" and v.quantity == "supply_offset"
    )
    assert offset.value > 1.0  # tracked ...
    # ... but neither the exchanger nor the resistance of its CDU moved in the model
    assert not [c for c in bench.shadow.feedback.applied if c.component == "L-CDU-02"]
    assert bench.shadow.sim.cdus.hx_ua_w_per_k[CDU] == DESIGN_UA_W_PER_K
    assert bench.shadow.sim.state.clog_factor[CDU] == 1.0
