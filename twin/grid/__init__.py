"""The grid's side of the site (no GUI): tariffs as data and monthly bills, KPX demand
response settled on a run, the power quality of training swings, and the grid-impact
pre-assessment."""
