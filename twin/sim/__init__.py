"""The simulation core: numpy only, no GUI toolkit."""

# The step sizes the simulation takes, in seconds: the range its numerics are checked over
# (README, "Numerics: the same answers at any step").
DT_RANGE_S = (0.1, 300.0)


def dt_in_range(dt_s: float) -> bool:
    low, high = DT_RANGE_S
    return low - 1e-9 <= dt_s <= high + 1e-9
