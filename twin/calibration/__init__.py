"""Calibration of a scenario to its plant's measurements, and validation of the match.

* ``data``: measurements as point-keyed series on one time grid (``kind/component/
  quantity``), read from ``twin run`` site and component tables or from a wide point
  table; a shadow recording joins through one adapter (``from_point_columns``).
* ``parameters``: the registry of calibratable parameters (name, scenario field, bounds,
  prior and its source), and those the model has no parameter for.
* ``model``: the simulation driven by the measured boundary conditions (IT power,
  weather) with the scenario's setpoints and event timeline.
* ``screening``: bad data (constant, gaps, stuck, wrong unit, time shift) found before any
  fit.
* ``fit``: batch least squares over a window with identifiability from the Jacobian.
* ``validation``: ASHRAE Guideline 14 CV(RMSE) and NMBE per point group.
* ``online``: recursive least squares with forgetting tracking drifting quantities
  (strainer resistance, exchanger UA) with drift alarms.
* ``writer`` and ``report``: the calibrated scenario file and the HTML report.

Numpy, scipy and pyarrow only: nothing here imports Qt.
"""
