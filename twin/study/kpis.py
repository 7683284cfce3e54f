"""A run's key figures, from its site table and alarm journal.

Site-table rows are interval means (peaks and end states where the data dictionary says
so), so totals are exact; peaks and first times are at the output interval's resolution
(``study.every_s``): a first time is the end of the first interval in which it happened.
"""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np

PRIORITIES = ("critical", "high", "medium", "low")

# name -> what it is; the unit is in the name. Tokens lost and availability need the
# study's reference run and are added when a run's result is stored.
KPI_COLUMNS: dict[str, str] = {
    "simulated_h": "simulated time covered by the site table",
    "energy_mwh": "facility energy: IT + cooling + electrical losses + robots",
    "it_energy_mwh": "IT energy at the racks' AC input",
    "pue": "energy_mwh / it_energy_mwh over the run",
    "peak_import_mw": "highest interval-mean grid import",
    "hours_throttled_h": "time in intervals with any GPU throttling",
    "tokens": "useful AI work delivered",
    "tokens_lost": "the reference run's tokens minus this run's",
    "output_availability": "tokens / the reference run's tokens",
    "cost_krw": "electricity cost at the time-of-use tariff",
    "co2_t": "emissions of grid import and generators",
    "water_m3": "cooling-tower water use",
    "unserved_mwh": "load no source carried",
    "max_tripped_racks": "most racks offline at once",
    "peak_gpu_temp_c": "hottest GPU",
    "first_throttle_s": "first interval with a throttled GPU (NaN: never)",
    "first_trip_s": "first interval with a tripped rack (NaN: never)",
    "first_unserved_s": "first interval with unserved load (NaN: never)",
    "first_critical_alarm_s": "first critical alarm raised (NaN: never)",
    "alarms_total": "alarms raised",
    **{f"alarms_{p}": f"{p}-priority alarms raised" for p in PRIORITIES},
}


def run_kpis(site_table: Path, journal: Path | None) -> dict[str, float]:
    """The KPIs of one finished run (``KPI_COLUMNS`` but tokens lost and availability)."""
    import pyarrow.parquet as pq

    table = pq.read_table(site_table)
    c = {name: table.column(name).to_numpy() for name in table.column_names}
    t = c["time_s"]
    dt = np.diff(t, prepend=0.0)

    def total(name: str, per_s: float) -> float:
        return float(np.sum(c[name] * dt) * per_s)

    def first(mask: np.ndarray) -> float:
        hit = np.flatnonzero(mask)
        return float(t[hit[0]]) if hit.size else math.nan

    energy = total("facility_power_kw", 1 / 3600 / 1000)
    it_energy = total("it_power_kw", 1 / 3600 / 1000)
    out = {
        "simulated_h": float(t[-1]) / 3600 if t.size else 0.0,
        "energy_mwh": energy,
        "it_energy_mwh": it_energy,
        "pue": energy / it_energy if it_energy > 0 else math.nan,
        "peak_import_mw": float(np.max(c["grid_import_kw"])) / 1000,
        "hours_throttled_h": float(np.sum(dt[c["throttled_gpus"] > 0])) / 3600,
        "tokens": total("tokens_per_s", 1.0),
        "cost_krw": total("cost_krw_per_h", 1 / 3600),
        "co2_t": total("co2_kg_per_h", 1 / 3600 / 1000),
        "water_m3": total("water_l_per_h", 1 / 3600 / 1000),
        "unserved_mwh": total("unserved_kw", 1 / 3600 / 1000),
        "max_tripped_racks": float(np.max(c["tripped_racks"])),
        "peak_gpu_temp_c": float(np.max(c["gpu_temp_max_c"])),
        "first_throttle_s": first(c["throttled_gpus"] > 0),
        "first_trip_s": first(c["tripped_racks"] > 0),
        "first_unserved_s": first(c["unserved_kw"] > 0),
    }
    out.update(_alarm_counts(journal))
    return out


def _alarm_counts(journal: Path | None) -> dict[str, float]:
    counts = {f"alarms_{p}": 0.0 for p in PRIORITIES}
    first_critical = math.nan
    if journal is not None and journal.exists():
        connection = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
        try:
            rows = connection.execute(
                "SELECT priority, COUNT(*), MIN(sim_time_s) FROM events WHERE event = 'raise' "
                "GROUP BY priority"
            ).fetchall()
        finally:
            connection.close()
        for priority, count, earliest in rows:
            if f"alarms_{priority}" in counts:
                counts[f"alarms_{priority}"] = float(count)
            if priority == "critical":
                first_critical = float(earliest)
    return {
        "alarms_total": sum(counts.values()),
        **counts,
        "first_critical_alarm_s": first_critical,
    }
