#!/bin/sh
# Install the twin bundle this script sits in, with its menu entry and icons.
#   ./install.sh                      for the current user, into ~/.local
#   ./install.sh --prefix /usr/local  for everyone (as root)
#   ./install.sh --uninstall [--prefix DIR]
# The program goes to PREFIX/lib/twin, the command to PREFIX/bin/twin, the menu entry to
# PREFIX/share/applications, the AppStream metadata to PREFIX/share/metainfo and the
# icons to PREFIX/share/icons/hicolor.
set -eu

app_id=io.github.twin.Twin
prefix="${HOME:?HOME is not set}/.local"
uninstall=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a folder" >&2; exit 2; }
              prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) sed -n '2,8s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (allowed: --prefix DIR, --uninstall)" >&2; exit 2 ;;
  esac
done
case "$prefix" in
  /*) ;;
  *) prefix="$(pwd)/$prefix" ;;
esac

bundle="$(cd "$(dirname "$0")" && pwd)"
share="$prefix/share"
sizes="16 24 32 48 64 128 256 512"

refresh_caches() {
  # Desktops notice new entries by themselves; these make it immediate where they exist.
  if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$share/applications" 2>/dev/null || true
  fi
  if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$share/icons/hicolor/index.theme" ]; then
    gtk-update-icon-cache -q -t "$share/icons/hicolor" 2>/dev/null || true
  fi
}

if [ "$uninstall" = 1 ]; then
  rm -rf "$prefix/lib/twin"
  if [ -L "$prefix/bin/twin" ]; then rm -f "$prefix/bin/twin"; fi
  rm -f "$share/applications/$app_id.desktop" "$share/metainfo/$app_id.metainfo.xml" \
    "$share/icons/hicolor/scalable/apps/$app_id.svg"
  for size in $sizes; do rm -f "$share/icons/hicolor/${size}x$size/apps/$app_id.png"; done
  refresh_caches
  echo "twin removed from $prefix"
  exit 0
fi

if [ ! -x "$bundle/twin" ] || [ ! -d "$bundle/_internal" ]; then
  echo "install.sh: $bundle is not a twin bundle (twin and _internal/ are missing)" >&2
  exit 2
fi
if ! mkdir -p "$prefix/lib" "$prefix/bin" "$share/applications" "$share/metainfo" 2>/dev/null \
   || [ ! -w "$prefix/lib" ]; then
  echo "install.sh: cannot write to $prefix; run as root for a system-wide prefix" >&2
  exit 2
fi

# A fresh copy under a temporary name, then swapped in: a failed copy leaves the old one.
rm -rf "$prefix/lib/twin.new"
mkdir "$prefix/lib/twin.new"
cp -R "$bundle/twin" "$bundle/_internal" "$prefix/lib/twin.new/"
rm -rf "$prefix/lib/twin"
mv "$prefix/lib/twin.new" "$prefix/lib/twin"
ln -sfn "$prefix/lib/twin/twin" "$prefix/bin/twin"

# The entry starts this copy by its full path: PREFIX/bin need not be on the menu's PATH.
sed "s|^Exec=twin|Exec=\"$prefix/bin/twin\"|" "$bundle/share/applications/$app_id.desktop" \
  > "$share/applications/$app_id.desktop"
cp "$bundle/share/metainfo/$app_id.metainfo.xml" "$share/metainfo/"
for size in $sizes scalable; do
  folder="${size}x$size"
  [ "$size" = scalable ] && folder=scalable
  mkdir -p "$share/icons/hicolor/$folder/apps"
  cp "$bundle/share/icons/hicolor/$folder/apps/"* "$share/icons/hicolor/$folder/apps/"
done
refresh_caches

echo "twin installed: $prefix/bin/twin, with its menu entry in $share/applications"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "note: $prefix/bin is not on PATH; add it to start twin by name from a shell" ;;
esac
