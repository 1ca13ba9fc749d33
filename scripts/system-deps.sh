#!/usr/bin/env bash
# Debian/Ubuntu packages the studio and its tests need. Installs only what is missing, so it
# is a no-op (no sudo, no network) on a machine that already has them.
set -euo pipefail
# Tools found on PATH are kept as they are (node and npm often come from outside Debian).
declare -A TOOLS=([python3]=python3 [node]=nodejs [npm]=npm [git]=git [make]=make)
PACKAGES=(
  python3-venv
  xvfb xauth dbus dbus-x11 gnome-keyring
  libimage-exiftool-perl
  libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
  libxcb-randr0 libxcb-shape0 libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1
)
command -v dpkg >/dev/null 2>&1 || { echo "system-deps: not a Debian-like system; install the equivalents of: ${PACKAGES[*]}" >&2; exit 0; }
missing=()
for tool in "${!TOOLS[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${TOOLS[$tool]}")
done
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "system-deps: run as root: apt-get install ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
