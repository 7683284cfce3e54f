"""A run's data once it leaves the simulation: headless runs and their tables, recordings
(one format, read and written here), replay and comparison, run reports. No GUI toolkit,
except the PDF report, which lays its pages out with Qt."""
