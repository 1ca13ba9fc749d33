"""Fixtures for tests against a real local chain (anvil from contracts/node_modules)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.core.chain.anvil_binary import ENV_VAR, AnvilProcess, find_anvil, start_anvil


@pytest.fixture(scope="module")
def anvil() -> Iterator[AnvilProcess]:
    """A fresh anvil on a free loopback port for the module; killed afterwards."""
    binary = find_anvil()
    if binary is None:
        pytest.skip(
            f"anvil binary not found: run `npm ci` in contracts/ "
            f"(scripts/contracts-test.sh does) or set {ENV_VAR}"
        )
    node = start_anvil(binary)
    try:
        yield node
    finally:
        node.stop()
