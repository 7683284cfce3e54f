"""Coolant property tables against CoolProp and against the figures in REFERENCES.md."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest
from CoolProp.CoolProp import PropsSI
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.sim import coolant
from twin.sim.coolant import CoolantTable


@pytest.fixture(scope="module")
def pg25() -> CoolantTable:
    return CoolantTable.build("PG25", 200.0)


@pytest.fixture(scope="module")
def water() -> CoolantTable:
    return CoolantTable.build("water", 200.0)


# REFERENCES.md, "Coolant properties at 2 bar (CoolProp 8.0)": rho, cp, mu, rounded there.
REFERENCE_ROWS = {
    "water": [
        (30, 995.7, 4180, 7.97e-4),
        (40, 992.3, 4179, 6.53e-4),
        (45, 990.3, 4180, 5.96e-4),
        (55, 985.7, 4183, 5.04e-4),
    ],
    "PG25": [
        (30, 1014.9, 3945, 1.78e-3),
        (40, 1009.9, 3969, 1.35e-3),
        (45, 1007.2, 3981, 1.20e-3),
        (55, 1001.4, 4004, 9.67e-4),
    ],
}


@pytest.mark.parametrize("fluid", ["water", "PG25"])
def test_matches_reference_table(fluid, pg25, water):
    table = pg25 if fluid == "PG25" else water
    for t_c, rho, cp, mu in REFERENCE_ROWS[fluid]:
        # The reference is rounded to 4-5 significant figures.
        assert table.density(t_c) == pytest.approx(rho, abs=0.06)
        assert table.cp(t_c) == pytest.approx(cp, abs=0.6)
        assert table.viscosity(t_c) == pytest.approx(mu, rel=6e-3)


@pytest.mark.parametrize("fluid,name", [("water", "Water"), ("PG25", "INCOMP::MPG[0.25]")])
def test_matches_coolprop_between_grid_points(fluid, name, pg25, water):
    table = pg25 if fluid == "PG25" else water
    t_c = np.array([5.13, 18.0, 31.37, 40.25, 47.77, 63.9, 88.01])
    for t, rho, cp, mu, rhocp in zip(
        t_c,
        table.density(t_c),
        table.cp(t_c),
        table.viscosity(t_c),
        table.volumetric_heat_capacity(t_c),
        strict=True,
    ):
        t_k, p_pa = t + 273.15, 200e3
        assert rho == pytest.approx(PropsSI("D", "T", t_k, "P", p_pa, name), rel=2e-5)
        assert cp == pytest.approx(PropsSI("C", "T", t_k, "P", p_pa, name), rel=2e-5)
        assert mu == pytest.approx(PropsSI("V", "T", t_k, "P", p_pa, name), rel=1e-3)
        assert rhocp == pytest.approx(rho * cp, rel=3e-5)


def test_ranges_are_clamped_to_the_liquid(pg25, water):
    # PG25 freezes at -9.79 C in CoolProp's fit, which ends at 100 C.
    assert -9.8 < pg25.t_min_c < -9.7
    assert pg25.t_max_c == pytest.approx(100.0)
    # Water from the triple point to 0.5 K below boiling at 200 kPa (120.21 C).
    assert water.t_min_c == pytest.approx(0.01, abs=1e-6)
    assert water.t_max_c == pytest.approx(119.71, abs=0.01)
    # At atmospheric pressure the table stops before 100 C and holds liquid density.
    atm = CoolantTable.build("water", 101.325)
    assert atm.t_max_c == pytest.approx(99.47, abs=0.01)
    assert atm.density(150.0) > 950.0


@pytest.mark.parametrize("step_k", [0.5, 0.3, 2.0])
def test_grid(step_k):
    table = CoolantTable.build("PG25", 300.0, t_min_c=10.0, t_max_c=60.0, step_k=step_k)
    steps = np.diff(table.t_c)
    assert table.t_c[0] == 10.0 and table.t_c[-1] == 60.0
    assert np.all(steps > 0) and np.all(steps <= step_k + 1e-12)


def test_values_outside_the_table_are_held(pg25):
    assert pg25.density(250.0) == pg25.density_kg_per_m3[-1]
    assert pg25.cp(-40.0) == pg25.cp_j_per_kg_k[0]


def test_flow_conversions(pg25, water):
    # REFERENCES.md physics check: 1 kW at dT 10 K needs 1.45 L/min water, 1.50 PG25 at 40 C.
    for table, lpm in ((water, 1.45), (pg25, 1.50)):
        rate_w_per_k = 1000.0 / 10.0
        flow = rate_w_per_k / table.heat_capacity_rate_w_per_k(1.0, 40.0)
        assert flow == pytest.approx(lpm, abs=0.005)
    flows = np.array([0.0, 60.0])
    assert np.array_equal(pg25.heat_capacity_rate_w_per_k(flows, 40.0)[:1], [0.0])
    assert pg25.mass_flow_kg_per_s(flows, 40.0)[1] == pytest.approx(1.0099, rel=1e-4)


def test_table_is_immutable(pg25):
    with pytest.raises(dataclasses.FrozenInstanceError):
        pg25.fluid = "water"
    with pytest.raises(ValueError):
        pg25.density_kg_per_m3[0] = 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fluid": "glycerol", "pressure_kpa": 200.0},
        {"fluid": "water", "pressure_kpa": 0.0},
        {"fluid": "water", "pressure_kpa": 200.0, "step_k": 0.0},
        {"fluid": "PG25", "pressure_kpa": 200.0, "t_min_c": 110.0, "t_max_c": 120.0},
    ],
)
def test_bad_requests_raise(kwargs):
    with pytest.raises(ValueError):
        CoolantTable.build(**kwargs)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-100.0, 300.0), min_size=1, max_size=20))
def test_properties_finite_and_positive_everywhere(temps):
    table = CoolantTable.build("PG25", 200.0)
    t = np.array(temps)
    for values in (
        table.density(t),
        table.cp(t),
        table.viscosity(t),
        table.volumetric_heat_capacity(t),
    ):
        assert np.all(np.isfinite(values)) and np.all(values > 0)


@pytest.fixture
def table_cache(tmp_path):
    with coolant.tables_cached_in(tmp_path):
        yield tmp_path


def _same_table(a: CoolantTable, b: CoolantTable) -> bool:
    return (
        a.fluid == b.fluid
        and a.pressure_kpa == b.pressure_kpa
        and all(
            np.array_equal(getattr(a, name), getattr(b, name))
            for name in (
                "t_c",
                "density_kg_per_m3",
                "cp_j_per_kg_k",
                "viscosity_pa_s",
                "volumetric_heat_capacity_j_per_m3_k",
            )
        )
    )


def test_a_cached_table_reads_back_equal_and_read_only(table_cache):
    built = CoolantTable.build("PG25", 200.0)
    (cache_file,) = table_cache.iterdir()
    assert "PG25" in cache_file.name and "CoolProp" in cache_file.name
    cached = CoolantTable.build("PG25", 200.0)
    assert cached is not built and _same_table(cached, built)
    assert not cached.density_kg_per_m3.flags.writeable
    CoolantTable.build("PG25", 300.0)  # another pressure is another table
    assert len(list(table_cache.iterdir())) == 2


def test_the_cache_folder_is_the_blocks_own(tmp_path):
    outer, inner = tmp_path / "outer", tmp_path / "inner"
    CoolantTable.build("water", 200.0)  # no block: no cache
    with coolant.tables_cached_in(outer):
        with coolant.tables_cached_in(inner):
            CoolantTable.build("water", 200.0)
        CoolantTable.build("PG25", 200.0)
    CoolantTable.build("PG25", 300.0)  # the block has ended
    assert [p.name.split("-")[2] for p in inner.iterdir()] == ["water"]
    assert [p.name.split("-")[2] for p in outer.iterdir()] == ["PG25"]
    assert sorted(tmp_path.iterdir()) == [inner, outer]


def test_a_cache_folder_given_to_build_is_used_outside_any_block(tmp_path):
    built = CoolantTable.build("water", 200.0, cache_dir=tmp_path)
    (cache_file,) = tmp_path.iterdir()
    assert _same_table(CoolantTable.build("water", 200.0, cache_dir=tmp_path), built)
    assert cache_file.stat().st_size > 0


def test_a_cached_table_is_read_without_importing_coolprop(tmp_path):
    CoolantTable.build("water", 200.0, cache_dir=tmp_path)
    code = (
        "import sys; from pathlib import Path; from twin.sim import coolant; "
        f"t = coolant.CoolantTable.build('water', 200.0, cache_dir=Path({str(tmp_path)!r})); "
        "print(t.t_c.size, 'CoolProp' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[1] == "False" and int(out[0]) > 100


def test_a_command_reads_its_tables_from_the_user_cache_without_coolprop(tmp_path):
    """``twin run`` keeps the tables in the per-user cache folder (here XDG_CACHE_HOME) and
    the next command reads them back without importing CoolProp."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def run(out: str) -> list[str]:
        code = (
            "import sys; from twin.cli import main; "
            "code = main(['run', '--scenario', 'single-rack', '--duration', '2min', "
            f"'--out', {str(tmp_path / out)!r}, '--quiet']); "
            "print(code, 'CoolProp' in sys.modules)"
        )
        return subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        ).stdout.split()

    assert run("first.csv") == ["0", "True"]  # the first command builds the tables
    assert any((tmp_path / "cache" / "twin" / "coolant").glob("coolant-*.npz"))
    assert run("second.csv") == ["0", "False"]


def test_a_damaged_cache_file_is_built_again_and_replaced(table_cache, caplog):
    reference = CoolantTable.build("water", 200.0)
    (cache_file,) = table_cache.iterdir()
    cache_file.write_bytes(cache_file.read_bytes()[:100])  # truncated, as by a crash
    with caplog.at_level("WARNING", logger="twin.sim.coolant"):
        rebuilt = CoolantTable.build("water", 200.0)
    assert _same_table(rebuilt, reference)
    assert "building it again" in caplog.text
    assert _same_table(CoolantTable.build("water", 200.0), reference)  # the file is whole again
