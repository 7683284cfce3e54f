"""Studies: many runs of one scenario (a sweep over its fields, or a Monte Carlo of
component failures), run on Dask from a laptop to a cluster, each run's KPIs stored as one
Parquet part. Headless: never imports Qt, vispy or pyqtgraph."""
