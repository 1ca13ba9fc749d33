#!/usr/bin/env bash
# Contract checks: install the pinned npm toolchain (only when the lockfile changed), check the
# committed ABI/bytecode artifacts against the sources, then run the forge tests offline.
#   scripts/contracts-test.sh                      default profile (CI)
#   FOUNDRY_PROFILE=deep scripts/contracts-test.sh 10,000 fuzz and invariant runs
# Extra arguments go to `forge test` (e.g. --match-contract Splitter -vvv).
set -euo pipefail
cd "$(dirname "$0")/../contracts"

# Same stamp as scripts/bootstrap.sh: whichever runs first installs, the other skips.
lock=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.stamp-lock 2>/dev/null)" != "$lock" ]; then
  command -v npm >/dev/null 2>&1 || { echo "contracts-test: npm is required" >&2; exit 1; }
  echo "contracts-test: installing the contracts toolchain (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock" > node_modules/.stamp-lock
fi

# forge runs through the node shim, which picks the platform's native binary.
[ -x node_modules/.bin/forge ] || { echo "contracts-test: forge missing after npm ci" >&2; exit 1; }

node_modules/.bin/forge fmt --check
node scripts/build-artifacts.mjs --check
# solc (tools/solc, a solc-js wrapper) and offline mode come from foundry.toml.
exec node_modules/.bin/forge test "$@"
