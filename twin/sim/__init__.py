"""The simulation core: numpy only, no GUI toolkit."""
