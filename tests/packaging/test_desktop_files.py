"""What the desktop build ships besides the program: the icon in every format, the menu
entry and AppStream metadata naming the same application, and install.sh's guard."""

from __future__ import annotations

import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ElementTree
from configparser import ConfigParser
from pathlib import Path

import numpy as np
import pytest

from twin.gui.app import APP_ID
from twin.resources import resource_dir

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "packaging" / "linux"
THEME_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.gui
@pytest.mark.parametrize("size", [16, 256])
def test_the_window_icon_draws_at_small_and_large_sizes(qapp, size):
    from PySide6.QtGui import QIcon, QImage

    icon = QIcon(str(resource_dir() / "icons" / "twin.svg"))
    image = icon.pixmap(size, size).toImage().convertToFormat(QImage.Format.Format_ARGB32)
    assert image.width() == size
    alpha = np.array([image.pixelColor(x, y).alpha() for x in range(size) for y in range(size)])
    # a rounded square: opaque inside, transparent in the corners
    assert (alpha == 255).mean() > 0.7 and alpha[0] == 0


def test_make_icons_writes_theme_pngs_an_ico_and_an_icns(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "packaging" / "make_icons.py"),
            str(resource_dir() / "icons" / "twin.svg"),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for size in THEME_SIZES:
        png = tmp_path / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert _png_size(png.read_bytes()) == (size, size)
    assert (tmp_path / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file()

    ico = (tmp_path / "twin.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind, count) == (0, 1, 7)
    sizes = []
    for index in range(count):
        width, _, _, _, _, _, length, offset = struct.unpack(
            "<BBBBHHII", ico[6 + 16 * index : 22 + 16 * index]
        )
        assert _png_size(ico[offset : offset + length])[0] == (width or 256)
        sizes.append(width or 256)
    assert sizes == [16, 24, 32, 48, 64, 128, 256]

    icns = (tmp_path / "twin.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    position, found = 8, {}
    while position < len(icns):
        kind, length = (
            icns[position : position + 4],
            struct.unpack(">I", icns[position + 4 : position + 8])[0],
        )
        found[kind] = _png_size(icns[position + 8 : position + length])[0]
        position += length
    assert found == {
        b"icp4": 16,
        b"icp5": 32,
        b"icp6": 64,
        b"ic07": 128,
        b"ic08": 256,
        b"ic09": 512,
        b"ic10": 1024,
    }


def test_make_icons_says_when_the_svg_is_missing(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "packaging" / "make_icons.py"),
            str(tmp_path / "none.svg"),
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "none.svg does not exist" in done.stderr


def test_the_menu_entry_and_the_metainfo_name_the_same_application():
    entry = ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(LINUX / f"{APP_ID}.desktop", encoding="utf-8")
    main = entry["Desktop Entry"]
    assert (main["Exec"], main["Icon"], main["Type"]) == ("twin", APP_ID, "Application")
    assert main["Categories"] == "Science;Engineering;Education;"
    assert entry["Desktop Action kiosk"]["Exec"] == "twin kiosk"

    component = ElementTree.parse(LINUX / f"{APP_ID}.metainfo.xml").getroot()
    assert component.findtext("id") == APP_ID
    assert component.find("launchable").text == f"{APP_ID}.desktop"
    assert component.find("provides/binary").text == "twin"
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert version in [release.get("version") for release in component.iter("release")], (
        f"the metainfo has no release {version}: packaging/build.sh would refuse to build"
    )
    assert f'bundle_identifier="{APP_ID}"' in (ROOT / "packaging" / "twin.spec").read_text()


def test_install_sh_refuses_a_folder_that_is_not_a_bundle(tmp_path):
    done = subprocess.run(
        ["sh", str(LINUX / "install.sh"), "--prefix", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "is not a twin bundle" in done.stderr
    assert not (tmp_path / "lib" / "twin").exists()
    wrong = subprocess.run(
        ["sh", str(LINUX / "install.sh"), "--everywhere"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert wrong.returncode == 2 and "unknown option --everywhere" in wrong.stderr
