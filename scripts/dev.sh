#!/usr/bin/env bash
# The two README commands.
#   bash scripts/dev.sh run   set everything up, then open the studio on its defaults
#   bash scripts/dev.sh test  set everything up, then run the whole test suite
set -euo pipefail
cd "$(dirname "$0")/.."
cmd="${1:-}"
shift || true
case "$cmd" in
  run)
    scripts/system-deps.sh
    scripts/bootstrap.sh
    exec .venv/bin/studio "$@"
    ;;
  test)
    scripts/system-deps.sh
    exec scripts/test.sh "$@"
    ;;
  *)
    echo "usage: bash scripts/dev.sh run|test" >&2
    exit 2
    ;;
esac
