"""JSON-RPC round trips of a mint, counted by a FAKE-in-the-middle proxy (tests/chain/rpc_proxy.py)
in front of a real anvil: the session's chain-id check is cached, the one before each broadcast
never is."""

from __future__ import annotations

import os

import pytest
from eth_account import Account

from studio.core.chain.anvil_binary import find_anvil
from studio.core.chain.mint import MintWorkflow
from studio.core.chain.mintstore import MintState
from studio.core.chain.rpc import ChainIdMismatch
from studio.core.chain.sandbox import fund_account
from studio.core.chain.txmanager import TransactionManager
from tests.chain.mint_support import (  # noqa: F401  (fixture)
    ONE_ETH,
    add_asset,
    add_local_profile,
    keyring_service,
    make_wallet,
    three_way,
)
from tests.chain.rpc_proxy import RpcProxy

pytestmark = pytest.mark.skipif(find_anvil() is None,
                                reason="anvil not installed (npm ci in contracts/)")
MINT_BUDGET = 15  # requests for a mint whose collection and split exist (issue 17)


@pytest.fixture
async def ready(anvil, paths, library):
    me = make_wallet(paths)
    await fund_account(anvil.url, me.address, 10 * ONE_ETH)
    return me, add_local_profile(paths, anvil.url)


async def test_mint_with_existing_split_stays_in_budget(anvil, library, ready) -> None:
    me, profile = ready
    a, b = Account.create().address, Account.create().address
    proxy = RpcProxy(anvil.url)
    async with proxy as url, TransactionManager(library, profile, url) as tm:
        first = add_asset(library, os.urandom(64), "first")
        flow = MintWorkflow(library, tm, me, poll_interval=0.05)
        await flow.run(flow.create(three_way(me.address, a, b, asset_id=first.id)).id)
        proxy.calls.clear()
        second = add_asset(library, os.urandom(64), "second")
        flow = MintWorkflow(library, tm, me, poll_interval=0.05)  # a new mint, same session
        rec = await flow.run(flow.create(three_way(me.address, a, b, asset_id=second.id)).id)
    assert rec.state == MintState.MINTED and rec.token_id
    assert proxy.calls["eth_sendRawTransaction"] == 1
    assert proxy.calls["eth_chainId"] == 1  # the check right before the broadcast
    assert sum(proxy.calls.values()) <= MINT_BUDGET, dict(proxy.calls)


async def test_chain_switch_mid_session_is_caught_before_broadcast(anvil, library,
                                                                    ready) -> None:
    me, profile = ready
    bob = Account.create().address
    proxy = RpcProxy(anvil.url)
    async with proxy as url, TransactionManager(library, profile, url) as tm:
        await tm.check_chain()  # the session's check passes and is remembered
        proxy.lies["eth_chainId"] = lambda _real: hex(11155111)  # now another chain
        with pytest.raises(ChainIdMismatch, match=r"on chain 11155111.*expects chain 31337"):
            await tm.send(me, to=bob, value=1, purpose="after a switch")
    assert proxy.calls["eth_sendRawTransaction"] == 0  # nothing reached the endpoint
