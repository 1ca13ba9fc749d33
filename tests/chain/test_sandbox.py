"""The Sandbox node: a real anvil with its state persisted in the data dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.core.chain.anvil_binary import find_anvil
from studio.core.chain.rpc import ChainError, test_connection
from studio.core.chain.sandbox import Sandbox, SandboxError, fund_account

pytestmark = pytest.mark.skipif(
    find_anvil() is None, reason="anvil not installed (npm ci in contracts/)"
)
ALICE = "0x000000000000000000000000000000000000a11c"


async def test_sandbox_persists_state_across_restart(paths) -> None:
    box = Sandbox(paths.data_dir)
    url = box.start()
    try:
        assert box.start() == url  # idempotent while running
        report = await test_connection(url, 31337)
        assert report.matches and report.chain_id == 31337 and report.latency_ms >= 0
        assert report.client.lower().startswith("anvil")
        assert await fund_account(url, ALICE, 12_345 * 10**18) == 12_345 * 10**18
        box.stop()
        assert not box.running and box.state_file.is_file()
        with pytest.raises(SandboxError, match="not running"):
            _ = box.url

        url2 = box.start()
        from web3 import AsyncHTTPProvider, AsyncWeb3

        w3 = AsyncWeb3(AsyncHTTPProvider(url2))
        try:
            assert await w3.eth.get_balance(w3.to_checksum_address(ALICE)) == 12_345 * 10**18
        finally:
            await w3.provider.disconnect()
    finally:
        box.stop()
    assert box._node is None


def test_missing_anvil_is_a_clear_error(paths) -> None:
    box = Sandbox(paths.data_dir, anvil=Path("/nonexistent/anvil"))
    with pytest.raises(SandboxError, match=r"anvil.*not found"):
        box.start()


async def test_funding_refuses_anything_but_the_sandbox(paths) -> None:
    from studio.core.chain.anvil_binary import start_anvil

    # A plain anvil on another chain id stands in for a public chain.
    with (start_anvil(args=["--chain-id", "8453"]) as other,
          pytest.raises(ChainError, match="only on the Sandbox")):
        await fund_account(other.url, ALICE, 1)
    with (Sandbox(paths.data_dir) as box,
          pytest.raises(ChainError, match="not an Ethereum address")):
        await fund_account(box.url, "0x123", 1)
