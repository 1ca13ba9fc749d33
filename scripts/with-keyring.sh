#!/usr/bin/env bash
# Run a command inside a private D-Bus session with a real, unlocked gnome-keyring Secret Service.
# Used by the test command; a desktop session already has one, so `make run` does not need it.
set -euo pipefail
if [ -z "${STUDIO_IN_KEYRING_SESSION:-}" ]; then
  export STUDIO_IN_KEYRING_SESSION=1
  exec dbus-run-session -- "$0" "$@"
fi
# A throwaway keyring directory so tests never see the user's own keyrings.
export XDG_DATA_HOME="${XDG_DATA_HOME_FOR_KEYRING:-$(mktemp -d)}"
mkdir -p "$XDG_DATA_HOME/keyrings"
eval "$(printf 'studio-test-keyring\n' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
exec "$@"
