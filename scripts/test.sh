#!/usr/bin/env bash
# The whole test suite: lint, contract tests, then pytest against a real keyring (gnome-keyring),
# real anvil, real c2pa and a tiny real diffusers pipeline. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check .
if [ -x scripts/contracts-test.sh ]; then
  scripts/contracts-test.sh
fi
exec scripts/with-keyring.sh .venv/bin/python -m pytest "$@"
