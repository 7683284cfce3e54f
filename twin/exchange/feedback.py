"""The shadow's model following the plant's tracked process drift.

``twin shadow`` tracks each CDU's series resistance and exchanger UA from the plant's
measurements (``twin.exchange.estimation``). Once a tracked value is trusted, the shadow's
own model takes it, so its predictions stay on a fouling or clogging plant instead of
parting from it; the drift itself stays information (its tracker, band and alarm).

A tracked value is trusted after ``MIN_TRACKED_S`` of samples with its band (two standard
deviations) within ``MAX_RELATIVE_HALF_BAND`` of its value. The model moves only when the
tracked value is more than ``DEADBAND`` from the value in force and outside the tracked
band (hysteresis: noise inside the band never moves it), at most once per
``APPLY_EVERY_S`` per quantity and by at most ``MAX_STEP`` of the value in force (rate
limit: no jump), within ``RATIO_RANGE`` of design. Each change is queued at an evaluation
and applied between two model steps through the engine's commands
(``set_cdu_exchanger_ua``, ``set_cdu_series_resistance_factor``), printed and kept in
``applied``.

Sensor offsets are not applied: they are faults of a sensor, not of the process, and the
model must not follow them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

import numpy as np

if TYPE_CHECKING:
    from twin.exchange.estimation import ShadowEstimation

# Engineering choices: a fouling exchanger or a clogging strainer moves over hours to weeks,
# so a change every minute of at most 5 % follows it (and any test ramp up to ~5 %/min)
# while one bad estimate cannot throw the model far.
MIN_TRACKED_S = 600.0  # samples this long before a tracked value is trusted
MAX_RELATIVE_HALF_BAND = 0.08  # its band within +/-8 % of its value
DEADBAND = 0.03  # the model moves when the tracked value is 3 % away from it ...
APPLY_EVERY_S = 60.0  # ... at most once a minute per quantity ...
MAX_STEP = 0.10  # ... by at most 10 % of the value in force
# what the model takes, as a ratio over design: an exchanger fouled to a fifth of its UA or
# a strainer at ten times its resistance is out of service, not drifting
RATIO_RANGE = {"exchanger_ua": (0.2, 1.5), "series_resistance": (0.5, 10.0)}
FOLLOWED = tuple(RATIO_RANGE)


@dataclass(frozen=True)
class AppliedChange:
    """One change of the shadow's model to a tracked value."""

    time_s: float
    component: str
    quantity: str  # a key of RATIO_RANGE
    unit: str
    value: float  # now in the model, in the tracker's unit
    ratio: float  # over design
    tracked: float  # the tracked value at the time, in the tracker's unit
    half_band: float  # its band's half width (two standard deviations)

    def text(self) -> str:
        words = {"exchanger_ua": "exchanger UA", "series_resistance": "series resistance"}
        return (
            f"model follows {self.component} {words[self.quantity]}: {self.value:.4g} "
            f"{self.unit} ({self.ratio:.3f} x design; tracked {self.tracked:.4g} "
            f"± {self.half_band:.2g})"
        )


class ModelFeedback:
    """Applies trusted tracked process values to the shadow's model (module docstring)."""

    def __init__(self, sim, estimation: ShadowEstimation, log: TextIO) -> None:
        self.sim = sim
        self.estimation = estimation
        self.log = log
        m = len(estimation.cdu_names)
        self.ratio = {q: np.ones(m) for q in FOLLOWED}  # in the model, over design
        self.first_s = {q: np.full(m, math.nan) for q in FOLLOWED}
        self.changed_s = {q: np.full(m, -math.inf) for q in FOLLOWED}
        self.applied: list[AppliedChange] = []
        self._due: list[tuple[int, AppliedChange]] = []

    def update(self, t: float) -> None:
        """At an evaluation: queue a change for each trusted value the model is off."""
        for k, trackers in enumerate(self.estimation.trackers):
            for quantity in FOLLOWED:
                tracker = trackers.get(quantity)
                if tracker is None or not tracker.history:
                    continue
                e = tracker.history[-1]
                first = self.first_s[quantity]
                if math.isnan(first[k]):
                    first[k] = e.time_s
                half_band = 2.0 * e.std
                if (
                    e.time_s - first[k] < MIN_TRACKED_S
                    or not (e.value > 0.0 and half_band <= MAX_RELATIVE_HALF_BAND * e.value)
                    or t - self.changed_s[quantity][k] < APPLY_EVERY_S
                ):
                    continue
                now = float(self.ratio[quantity][k])
                low, high = RATIO_RANGE[quantity]
                target = min(max(e.ratio, low), high)
                if (
                    abs(target - now) <= DEADBAND * now
                    or abs(e.value - now * tracker.design) <= half_band
                ):
                    continue
                ratio = min(max(target, now * (1.0 - MAX_STEP)), now * (1.0 + MAX_STEP))
                self.ratio[quantity][k] = ratio
                self.changed_s[quantity][k] = t
                change = AppliedChange(
                    t,
                    self.estimation.cdu_names[k],
                    quantity,
                    tracker.unit,
                    ratio * tracker.design,
                    ratio,
                    e.value,
                    half_band,
                )
                self._due.append((k, change))

    def apply(self) -> None:
        """Between two model steps: the queued changes into the model."""
        for k, change in self._due:
            if change.quantity == "exchanger_ua":
                self.sim.set_cdu_exchanger_ua(k, change.value * 1e3)  # kW/K -> W/K
            else:
                self.sim.set_cdu_series_resistance_factor(k, change.ratio)
            self.applied.append(change)
            print(f"twin shadow: t={change.time_s:.0f}s {change.text()}", file=self.log, flush=True)
        self._due.clear()
