#!/usr/bin/env bash
# Install twin and everything it needs on Debian/Ubuntu into ./.venv.
#   packaging/bootstrap.sh         the app (Qt's X11/xcb and Mesa OpenGL libraries included)
#   packaging/bootstrap.sh --dev   also Xvfb and the test tools
# Safe to run again: installed pieces are kept.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

# Libraries PySide6's xcb platform plugin and vispy's OpenGL need at run time.
packages=(libgl1 libegl1 libgl1-mesa-dri libglx-mesa0 libxkbcommon-x11-0 libxcb-cursor0
  libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
  libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0 libfontconfig1 libdbus-1-3
  libxrender1 libxi6 fonts-dejavu-core python3-venv)
[ "$dev" = 1 ] && packages+=(xvfb xauth mosquitto openssl)  # the exchange tests' broker, TLS certificates

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "twin: installing system packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "$dev" = 1 ]; then
  .venv/bin/python -m pip install -q -e ".[dev]"
else
  .venv/bin/python -m pip install -q -e .
fi
