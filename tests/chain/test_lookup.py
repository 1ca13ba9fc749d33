"""`verify --chain` on a real anvil when someone else minted the same bytes first: the token
in the collection of the wallet bound in the credentials wins, the other is listed as a copy
with its first block, lookups go by the indexed ContentMinted topic in bounded block ranges,
and a watermark's soft-binding id finds its token too."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from web3 import Web3

from studio.core.chain.anvil_binary import find_anvil, start_anvil
from studio.core.chain.deploy import ensure_factories, ensure_factory
from studio.core.chain.evm import UnsupportedEvm
from studio.core.chain.lookup import find_token, find_tokens_by_soft_binding
from studio.core.chain.mint import MintWorkflow
from studio.core.chain.plan import MintPlan, SplitEntry
from studio.core.chain.sandbox import fund_account
from studio.core.chain.txmanager import TransactionManager
from studio.core.chain.txstore import TxStore
from tests.chain.mint_support import (  # noqa: F401  (fixture)
    ONE_ETH,
    add_asset,
    add_local_profile,
    keyring_service,
    make_wallet,
    mint_as_stranger,
)
from tests.chain.rpc_proxy import RpcProxy

pytestmark = pytest.mark.skipif(find_anvil() is None,
                                reason="anvil not installed (npm ci in contracts/)")
WATERMARK = bytes.fromhex("5757") + b"studio-wm-0042"


def copier_mints(url: str, factory: str, data: bytes) -> str:
    """Someone else (an anvil dev account) mints the same bytes into their own collection."""
    import hashlib

    address, _ = mint_as_stranger(url, factory, account=8, name="Copies", token_uri="ipfs://copy",
                                  content_hash=hashlib.sha256(data).digest())
    Web3(Web3.HTTPProvider(url)).provider.make_request("anvil_mine", ["0x5"])  # some distance
    return address


async def test_the_creators_token_wins_over_an_earlier_copy(anvil, paths, library) -> None:
    me = make_wallet(paths)
    await fund_account(anvil.url, me.address, 10 * ONE_ETH)
    profile = add_local_profile(paths, anvil.url)
    data = os.urandom(96)
    asset = add_asset(library, data, "original")
    proxy = RpcProxy(anvil.url)
    async with proxy as url, TransactionManager(library, profile, url) as tm:
        factories = await ensure_factories(tm, me, library)
        copy = copier_mints(anvil.url, factories.collection_factory, data)
        flow = MintWorkflow(library, tm, me, poll_interval=0.05)
        plan = MintPlan(asset_id=asset.id, title="Original", new_collection=("Mine", "MINE"),
                        split=(SplitEntry(me.address, Decimal(100)),),
                        soft_binding_id=WATERMARK)
        mine = await flow.run((await flow.begin(plan)).id)
        latest = await tm.w3.eth.block_number

        proxy.requests.clear()
        token = await find_token(tm, library, asset.sha256, creator=me.address, chunk=4)
        assert token.collection == mine.collection and token.by_creator
        assert token.collection_owner == me.address and token.token_id == mine.token_id
        (other,) = token.copies
        assert other.collection == copy and other.first_block < token.first_block
        # Bounded ranges of eth_getLogs on the ContentMinted topic, not a walk from block 0
        # over every collection's tokenIdOf.
        ranges = [p[0] for m, p in proxy.requests if m == "eth_getLogs"]
        assert len(ranges) >= latest // 4
        assert all(int(r["toBlock"], 16) - int(r["fromBlock"], 16) < 4 for r in ranges)
        assert all(r["topics"][1] == "0x" + asset.sha256 for r in ranges)

        earliest = await find_token(tm, library, asset.sha256)  # no credentials to go by
        assert earliest.collection == copy and not earliest.by_creator
        assert [c.collection for c in earliest.copies] == [mine.collection]

        (ref,) = await find_tokens_by_soft_binding(tm, library, WATERMARK)
        assert ref.collection == mine.collection and ref.token_id == mine.token_id
        assert ref.content_hash.hex() == asset.sha256
        assert ref.soft_binding_id == WATERMARK.ljust(32, b"\0")
        assert await find_tokens_by_soft_binding(tm, library, b"no such mark") == []


async def test_factories_are_not_deployed_where_opcodes_are_missing(paths, library) -> None:
    """A Shanghai chain lacks MCOPY and TLOAD/TSTORE: refused before anything is signed."""
    me = make_wallet(paths)
    with start_anvil(args=["--hardfork", "shanghai"]) as node:
        await fund_account(node.url, me.address, 10 * ONE_ETH)
        profile = add_local_profile(paths, node.url, name="Old chain")
        async with TransactionManager(library, profile, node.url) as tm:
            with pytest.raises(UnsupportedEvm, match=r"does not run .*TSTORE \(Cancun\)"):
                await ensure_factory(tm, me, library, "SplitFactory")
            assert await tm.w3.eth.get_balance(me.address) == 10 * ONE_ETH  # no gas spent
    assert TxStore(library).list() == []
