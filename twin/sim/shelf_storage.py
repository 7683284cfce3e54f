"""Energy storage in the racks' power shelves (GB300 NVL72's PSUs with storage): per rack, a
store on the shelf's bus that serves the fast part of the rack's draw, so that its feed
follows only the draw's slow part.

The model, per rack and step (a simplification, see the README): the feed tracks a
first-order low-pass of the rack's input (time constant ``time_constant_s``) and the store
makes up the difference, charging when the draw is below the feed and discharging when
above; a slow pull (ten time constants) brings the store back to half full so that its
losses do not drain it. Energy moved through the store costs ``1 - efficiency`` each way,
as heat in the rack (to the hall air); a store that is empty or full passes the draw
through. Within a step the store is taken to flatten a training swing between its levels
(the feed is the step's mean), which holds while the store holds a step's swing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RESTORE_TIME_CONSTANTS = 10.0  # the pull back to half full: slow beside the smoothing


@dataclass
class ShelfStorage:
    capacity_j: np.ndarray  # per rack
    time_constant_s: float
    efficiency: float  # one way, charging or discharging
    stored_j: np.ndarray  # per rack
    feed_w: np.ndarray | None = None  # per rack, the low-pass the feed follows

    @classmethod
    def of(
        cls, j_per_gpu: float, gpus: np.ndarray, time_constant_s: float, efficiency: float
    ) -> ShelfStorage:
        capacity_j = j_per_gpu * np.asarray(gpus, dtype=float)
        return cls(capacity_j, time_constant_s, efficiency, 0.5 * capacity_j)

    def step(
        self, draw_w: np.ndarray, dt: float, powered: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(feed, loss)`` per rack for a step whose mean draw at the rack's input is
        ``draw_w``: what the bus upstream supplies, and the store's conversion loss
        (heat in the rack): feed = draw - the store's output, and the store gives up its
        output plus the loss. A rack without power (``powered`` false) leaves its store
        idle, and its feed starts again from its draw."""
        if self.feed_w is None:
            self.feed_w = draw_w.copy()  # the store starts with the draw as it finds it
        self.feed_w += (draw_w - self.feed_w) * -np.expm1(-dt / self.time_constant_s)
        self.feed_w = np.where(powered, self.feed_w, draw_w)
        half_j = 0.5 * self.capacity_j
        restore_w = (self.stored_j - half_j) / (RESTORE_TIME_CONSTANTS * self.time_constant_s)
        wanted_w = draw_w - self.feed_w + restore_w  # out of the store onto the rack's bus
        eta = self.efficiency
        # what the store can give (from what it holds) or take (into the room it has left)
        most_out_w = self.stored_j * eta / dt
        most_in_w = (self.capacity_j - self.stored_j) / (eta * dt)
        out_w = np.where(powered, np.clip(wanted_w, -most_in_w, most_out_w), 0.0)
        from_store_w = np.where(out_w > 0, out_w / eta, out_w * eta)
        self.stored_j = np.clip(self.stored_j - from_store_w * dt, 0.0, self.capacity_j)
        loss_w = from_store_w - out_w
        return draw_w - out_w, loss_w

    def energy_j(self) -> float:
        return float(self.stored_j.sum())
