"""The desktop bundle made by packaging/build.sh: it starts without Python, the venv or the
source tree, finds its resources inside itself, keeps user data in the platform's folders,
and installs with its menu entry and icons.

The bundle in dist/twin is built from the working tree when its recorded source digest
(packaging/source_digest.py) differs from the tree's, and reused otherwise.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.gui]

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "dist" / "twin"
APP_ID = "io.github.twin.Twin"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
SKIP_ENV = "TWIN_SKIP_BUNDLE"
BUILD_TIMEOUT_S = 1800


def _tree_digest() -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "source_digest.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def bundle() -> Path:
    if not sys.platform.startswith("linux"):
        pytest.skip("packaging/build.sh builds the Linux bundle only")
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: the desktop bundle is neither built nor tested")
    digest = _tree_digest()
    recorded = BUNDLE / "share" / "source-digest"
    (ROOT / "build").mkdir(exist_ok=True)
    with open(ROOT / "build" / "bundle.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time in this tree
        if not recorded.is_file() or recorded.read_text().strip() != digest:
            done = subprocess.run(
                [str(ROOT / "packaging" / "build.sh"), "--no-tarball"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT_S,
            )
            assert done.returncode == 0, f"packaging/build.sh failed:\n{done.stderr[-6000:]}"
    return BUNDLE


@pytest.fixture
def display() -> str:
    value = os.environ.get("DISPLAY")
    if not value:
        pytest.skip(
            "no X display: install Xvfb (packaging/bootstrap.sh --dev) so that "
            "pytest-xvfb provides one"
        )
    return value


def _clean_env(home: Path, display: str | None = None) -> dict[str, str]:
    """What a desktop gives a program: no venv, no PYTHONPATH, a home of its own."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    if display is not None:
        env["DISPLAY"] = display
        if os.environ.get("XAUTHORITY"):
            env["XAUTHORITY"] = os.environ["XAUTHORITY"]
    return env


def _twin(
    executable: Path, *args: str, env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(executable), *args], cwd="/", env=env, capture_output=True, text=True, timeout=timeout
    )


def _json_line(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _pixels(png: Path) -> np.ndarray:
    """The PNG's pixels as an (height, width, 3) array."""
    from PySide6.QtGui import QImage

    image = QImage(str(png)).convertToFormat(QImage.Format.Format_RGB888)
    assert not image.isNull(), f"{png} is not a PNG image"
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    # a copy: the view points into the QImage, which goes when this function returns
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def _drawn(pixels: np.ndarray) -> tuple[int, float]:
    """Distinct colours and the brightness spread in the middle third: the 3D view."""
    height, width, _ = pixels.shape
    middle = pixels[height // 3 : 2 * height // 3, width // 3 : 2 * width // 3].reshape(-1, 3)
    colours = len(np.unique(middle, axis=0))
    return colours, float(middle.mean(axis=1).std())


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG file"
    return struct.unpack(">II", header[16:24])


def test_the_bundle_holds_the_program_its_resources_and_desktop_files(bundle):
    internal = bundle / "_internal"
    assert os.access(bundle / "twin", os.X_OK)
    for resource in (
        "scenarios/seoul-ai-factory.toml",
        "stories/ai-factory-tour.toml",
        "fonts/NanumSquareR.ttf",
        "i18n/twin_ko.qm",
        "icons/twin.svg",
    ):
        assert (internal / "resources" / resource).is_file(), resource
    # the window icon is an SVG: Qt needs its SVG icon engine to draw it
    assert (internal / "PySide6" / "Qt" / "plugins" / "iconengines" / "libqsvgicon.so").is_file()
    assert list((internal / "vispy" / "glsl").rglob("*.glsl")), "vispy's shaders are missing"
    assert not list(internal.rglob("pytest")) and not (internal / "pandas").exists()
    for size in ICON_SIZES:
        icon = bundle / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert _png_size(icon) == (size, size)
    desktop = (bundle / "share" / "applications" / f"{APP_ID}.desktop").read_text()
    assert "Exec=twin\n" in desktop and f"Icon={APP_ID}\n" in desktop
    metainfo = (bundle / "share" / "metainfo" / f"{APP_ID}.metainfo.xml").read_text()
    assert f'<launchable type="desktop-id">{APP_ID}.desktop</launchable>' in metainfo


def test_the_bundle_runs_headless_records_and_reports(bundle, tmp_path):
    home = tmp_path / "home"
    env = _clean_env(home)
    from twin import __version__

    assert _twin(bundle / "twin", "--version", env=env).stdout.strip() == f"twin {__version__}"
    listed = _twin(bundle / "twin", "scenarios", env=env)
    assert listed.returncode == 0 and "seoul-ai-factory" in listed.stdout
    out = tmp_path / "site.parquet"
    done = _twin(
        bundle / "twin",
        "run",
        "--scenario",
        "single-rack",
        "--duration",
        "2h",
        "--dt",
        "5s",
        "--every",
        "10min",
        "--out",
        str(out),
        "--record",
        str(tmp_path / "run.twinrec"),
        "--quiet",
        env=env,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    import pyarrow.parquet as pq

    table = pq.read_table(out)
    assert table.num_rows == 12
    assert table.column("time_s").to_pylist()[-1] == pytest.approx(7200.0)
    assert min(table.column("it_power_kw").to_pylist()) > 0
    assert (tmp_path / "site.alarms.sqlite").is_file()
    # the report reads the recording's Parquet parts back inside the bundle
    report = tmp_path / "report.html"
    done = _twin(
        bundle / "twin", "report", str(tmp_path / "run.twinrec"), "--out", str(report), env=env
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "single-rack" in report.read_text() and "<svg" in report.read_text()
    # the PDF report: Qt's offscreen platform and its SVG renderer, inside the bundle
    pdf = tmp_path / "report.pdf"
    done = _twin(
        bundle / "twin", "report", str(tmp_path / "run.twinrec"), "--out", str(pdf), env=env
    )
    assert done.returncode == 0, done.stderr[-4000:]
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    assert "single-rack" in "".join(page.extract_text() for page in reader.pages)
    charts = [
        image
        for page in reader.pages
        for image in page["/Resources"].get("/XObject", {}).values()
        if image.get_object()["/Subtype"] == "/Image"
    ]
    assert charts  # drawn by QtSvg
    bad = _twin(
        bundle / "twin",
        "run",
        "--scenario",
        "no-such-site",
        "--duration",
        "1h",
        "--out",
        str(tmp_path / "x.csv"),
        env=env,
    )
    assert bad.returncode == 2 and "no-such-site" in bad.stderr


def test_the_bundle_says_when_there_is_no_display(bundle, tmp_path):
    done = _twin(bundle / "twin", env=_clean_env(tmp_path / "home"))
    assert done.returncode == 2
    assert "needs a display" in done.stderr


def test_the_bundle_opens_the_window_and_draws(bundle, display, tmp_path):
    shot = tmp_path / "window.png"
    report = _json_line(
        _twin(
            bundle / "twin",
            "gui",
            "--exit-after",
            "6",
            "--screenshot",
            str(shot),
            env=_clean_env(tmp_path / "home", display),
        )
    )
    assert report["scenario"] == "seoul-ai-factory"
    assert report["frames_drawn"] > 0 and report["simulated_s"] > 0
    pixels = _pixels(shot)
    assert pixels.shape[0] > 400 and pixels.shape[1] > 600
    colours, spread = _drawn(pixels)
    assert colours > 200 and spread > 5, (colours, spread)


def test_the_bundle_plays_the_kiosk_tour_in_korean_and_logs_in_the_users_folder(
    bundle, display, tmp_path
):
    home = tmp_path / "home"
    shot = tmp_path / "kiosk.png"
    report = _json_line(
        _twin(
            bundle / "twin",
            "kiosk",
            "--lang",
            "ko",
            "--exit-after",
            "8",
            "--screenshot",
            str(shot),
            env=_clean_env(home, display),
        )
    )
    assert report["story"] and report["frames_drawn"] > 0
    # the caption comes from the bundled translation: Hangul syllables
    assert any("\uac00" <= character <= "\ud7a3" for character in report["caption"])
    colours, spread = _drawn(_pixels(shot))
    assert colours > 200 and spread > 5, (colours, spread)
    log = home / ".local" / "state" / "twin" / "log" / "kiosk.log"
    assert log.is_file() and log.stat().st_size > 0


def test_install_sh_installs_the_menu_entry_and_icons_and_removes_them(bundle, tmp_path):
    prefix = tmp_path / "prefix"
    env = _clean_env(tmp_path / "home")
    done = subprocess.run(
        [str(bundle / "install.sh"), "--prefix", str(prefix)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    command = prefix / "bin" / "twin"
    from twin import __version__

    assert _twin(command, "--version", env=env).stdout.strip() == f"twin {__version__}"
    desktop = (prefix / "share" / "applications" / f"{APP_ID}.desktop").read_text()
    assert f'Exec="{command}"\n' in desktop and f'Exec="{command}" kiosk\n' in desktop
    assert (prefix / "share" / "metainfo" / f"{APP_ID}.metainfo.xml").is_file()
    for size in ICON_SIZES:
        assert (
            prefix / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        ).is_file()
    if shutil.which("desktop-file-validate"):
        checked = subprocess.run(
            ["desktop-file-validate", str(prefix / "share" / "applications" / f"{APP_ID}.desktop")],
            capture_output=True,
            text=True,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr

    done = subprocess.run(
        [str(bundle / "install.sh"), "--uninstall", "--prefix", str(prefix)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert not command.exists() and not (prefix / "lib" / "twin").exists()
    assert not list((prefix / "share").rglob(f"{APP_ID}*"))
