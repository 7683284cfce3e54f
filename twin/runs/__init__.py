"""A run's data once it leaves the simulation: headless runs and their tables, recordings
(one format, read and written here), replay and comparison, run reports. No GUI toolkit,
except the PDF report, which lays its pages out with Qt."""

# Wall time between flushes of a run's tables to disk (``twin run --flush-every``): what a
# killed run can lose at most. A flush is an fsync of each output, tens of milliseconds on
# a disk, so the range's lower end keeps a fast run from spending its time syncing.
FLUSH_WALL_S = 10.0
FLUSH_RANGE_S = (0.5, 3600.0)
