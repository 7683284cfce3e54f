#!/usr/bin/env bash
# Build twin as a self-contained desktop application for Linux (x86_64 or aarch64):
#   packaging/build.sh [--no-tarball]
# produces
#   dist/twin/                             the one-folder bundle: ./twin runs without Python
#   dist/twin-VERSION-linux-ARCH.tar.gz    the same folder as a tarball, with install.sh
#                                          (not with --no-tarball: ~15 s of gzip saved when
#                                          only the folder is wanted, as by the tests)
# from the working tree and .venv (made by packaging/bootstrap.sh). Intermediate files go
# to build/. The menu entry and AppStream metadata are validated on the way, and the
# bundle is started once with a clean environment to prove it stands alone.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
started=$(date +%s)
app_id=io.github.twin.Twin

fail() { echo "packaging/build.sh: $*" >&2; exit 2; }

tarball_wanted=1
for argument in "$@"; do
  case "$argument" in
    --no-tarball) tarball_wanted=0 ;;
    *) fail "unknown argument '$argument'; the only option is --no-tarball" ;;
  esac
done

[ "$(uname -s)" = Linux ] || fail "builds the Linux bundle only; see the README for Windows and macOS"
[ -x .venv/bin/python ] || fail ".venv is missing: run packaging/bootstrap.sh first"
python=.venv/bin/python

# Build-time tools: PyInstaller from PyPI (the 'packaging' extra), the freedesktop
# validators from the distribution.
if ! "$python" -c "import PyInstaller" 2>/dev/null; then
  echo "twin build: installing PyInstaller (pip install -e '.[packaging]')" >&2
  "$python" -m pip install -q -e ".[packaging]" \
    || fail "could not install PyInstaller; run: .venv/bin/pip install -e '.[packaging]'"
fi
validators=()
command -v desktop-file-validate >/dev/null || validators+=(desktop-file-utils)
command -v appstreamcli >/dev/null || validators+=(appstream)
if [ ${#validators[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo"
  if command -v apt-get >/dev/null && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then
    echo "twin build: installing ${validators[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "${validators[@]}" >/dev/null
  else
    fail "needs desktop-file-validate and appstreamcli: install the packages ${validators[*]}"
  fi
fi

# taken before the build: a tree edited while it runs reads as another one afterwards
digest=$("$python" packaging/source_digest.py)
version=$("$python" -c "from importlib.metadata import version; print(version('twin'))")
arch=$(uname -m)
desktop=packaging/linux/$app_id.desktop
metainfo=packaging/linux/$app_id.metainfo.xml

desktop-file-validate "$desktop" | grep -v "more than one main category" || true
desktop-file-validate "$desktop" >/dev/null 2>&1 || fail "$desktop is not a valid desktop entry"
appstreamcli validate --no-net --no-color "$metainfo" >/dev/null \
  || { appstreamcli validate --no-net --no-color "$metainfo" >&2 || true
       fail "$metainfo is not valid AppStream metadata"; }
grep -q "<release version=\"$version\"" "$metainfo" \
  || fail "$metainfo has no <release version=\"$version\"> for twin $version: add one"

echo "twin build: icons" >&2
rm -rf build/icons
"$python" packaging/make_icons.py resources/icons/twin.svg build/icons

echo "twin build: PyInstaller (a few minutes)" >&2
"$python" -m PyInstaller --noconfirm --log-level WARN --distpath dist \
  --workpath build/pyinstaller packaging/twin.spec

bundle=dist/twin
mkdir -p "$bundle/share/applications" "$bundle/share/metainfo" "$bundle/share/icons"
cp "$desktop" "$bundle/share/applications/"
cp "$metainfo" "$bundle/share/metainfo/"
cp -R build/icons/hicolor "$bundle/share/icons/"
cp packaging/linux/install.sh "$bundle/"
echo "$digest" > "$bundle/share/source-digest"

# The bundle must stand alone: no venv, no source tree, no Python on PATH.
home=$(mktemp -d)
reported=$(cd / && env -i PATH=/usr/bin:/bin HOME="$home" "$root/$bundle/twin" --version) \
  || fail "the bundle does not start: $bundle/twin --version failed"
rm -rf "$home"
[ "$reported" = "twin $version" ] || fail "the bundle reports '$reported', expected 'twin $version'"

tarball=dist/twin-$version-linux-$arch.tar.gz
rm -f "$tarball"
folder_mib=$(du -sm "$bundle" | cut -f1)
if [ "$tarball_wanted" = 1 ]; then
  tar -C dist --transform "s|^twin|twin-$version|" -czf "$tarball" twin
  tarball_mib=$(du -sm "$tarball" | cut -f1)
  echo "twin build: $bundle (${folder_mib} MiB) and $tarball (${tarball_mib} MiB)" \
    "in $(( $(date +%s) - started )) s"
else
  echo "twin build: $bundle (${folder_mib} MiB) in $(( $(date +%s) - started )) s"
fi
