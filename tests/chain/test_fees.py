"""Fees the endpoint cannot inflate and the user sees before anything is signed.

The liar is RpcProxy (tests/chain/rpc_proxy.py), a FAKE endpoint in front of the real anvil
that rewrites chosen answers: a lying endpoint cannot be had any other way. Everything else
(signing, the chain, the keyring wallet) is real."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest
from eth_account import Account

from studio.core.chain.anvil_binary import find_anvil, start_anvil
from studio.core.chain.feeplan import (
    GAS_DEPLOY,
    GAS_MINT,
    GAS_NEW_COLLECTION,
    GAS_NEW_SPLIT_BASE,
    GAS_NEW_SPLIT_PER_RECIPIENT,
)
from studio.core.chain.fees import TIP_FLOOR_WEI, FeeAboveConfirmed, FeeTooHigh
from studio.core.chain.mint import MintWorkflow
from studio.core.chain.mintstore import MintState, MintStore
from studio.core.chain.sandbox import fund_account
from studio.core.chain.txmanager import TransactionManager
from studio.core.chain.txstore import TxStore
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
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GWEI = 10**9
BOB = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def plan_for(me, asset):
    return three_way(me.address, Account.create().address, Account.create().address,
                     asset_id=asset.id, collection=("Fee Tests", "FEE"))


def inflate_history(factor: int):
    def lie(history):
        history["baseFeePerGas"] = [hex(int(b, 16) * factor) for b in history["baseFeePerGas"]]
        return history
    return lie


async def test_a_lying_tip_is_cut_to_what_recent_blocks_paid(anvil, library, ready) -> None:
    me, profile = ready
    proxy = RpcProxy(anvil.url)
    proxy.lies["eth_maxPriorityFeePerGas"] = lambda real: hex(5_000 * GWEI)
    async with proxy as url, TransactionManager(library, profile, url) as tm:
        quote = await tm.fee_quote()
        assert quote.node_tip == 5_000 * GWEI and quote.tip <= TIP_FLOOR_WEI
        rec = await tm.send(me, to=BOB, value=1, purpose="through a liar")
    # The old rule signed 2 x baseFee + 5,000 gwei; now the history's ceiling holds.
    assert rec.max_priority_fee <= TIP_FLOOR_WEI
    assert rec.max_fee <= quote.ceiling < 100 * GWEI


async def test_the_profile_maximum_refuses_with_nothing_signed(anvil, library, ready) -> None:
    me, profile = ready
    capped = dataclasses.replace(profile, max_fee_gwei=0.5)  # anvil asks about 3 gwei
    proxy = RpcProxy(anvil.url)
    before = len(TxStore(library).list())
    async with proxy as url, TransactionManager(library, capped, url) as tm:
        with pytest.raises(FeeTooHigh, match=r"above this profile's maximum of 0\.5 gwei"):
            await tm.send(me, to=BOB, value=1)
    assert len(TxStore(library).list()) == before and proxy.calls["eth_sendRawTransaction"] == 0


async def test_signing_above_the_confirmed_fee_stops_with_nothing_sent(anvil, library,
                                                                        ready) -> None:
    me, profile = ready
    asset = add_asset(library, os.urandom(64), "fee guard")
    proxy = RpcProxy(anvil.url)
    async with proxy as url, TransactionManager(library, profile, url) as tm:
        flow = MintWorkflow(library, tm, me, poll_interval=0.05)
        rec = await flow.begin(plan_for(me, asset))
        fee_plan = await flow.estimate_resume([rec])  # what the user is shown and confirms
        text = fee_plan.text()
        assert "chain id 31337" in text and "create the royalty split" in text
        assert "create the collection Fee Tests (FEE)" in text and "mint" in text
        assert f"Maximum total fee: {fee_plan.max_total_wei / 10**18:.18f}".rstrip("0") in text

        # After the confirmation the endpoint lies about the base fee, history included.
        proxy.lies["eth_feeHistory"] = inflate_history(100)
        before = len(TxStore(library).list())
        with pytest.raises(FeeAboveConfirmed, match=r"above the .* gwei you confirmed"):
            await flow.run(rec.id, fee_plan.guard())
        assert len(TxStore(library).list()) == before  # nothing signed ...
        assert proxy.calls["eth_sendRawTransaction"] == 0  # ... nothing sent
        paused = MintStore(library).get(rec.id)
        assert paused.state != MintState.FAILED and "you confirmed" in paused.error

        del proxy.lies["eth_feeHistory"]  # honest again: the same confirmation holds
        done = await flow.run(rec.id, fee_plan.guard())
    assert done.state == MintState.MINTED
    signed = [t for t in TxStore(library).list() if f"mint #{rec.id}" in t.purpose]
    assert len(signed) == len(fee_plan.txs)  # every transaction was in the plan
    assert all(t.max_fee <= fee_plan.max_fee_per_gas for t in signed)
    assert sum(t.gas * t.max_fee for t in signed) <= fee_plan.max_total_wei


def studio_mint(*args: str, stdin: str = ""):
    return subprocess.run([sys.executable, "-m", "studio", "mint", *args], input=stdin,
                          env={**os.environ, "PYTHONPATH": REPO}, cwd=REPO,
                          capture_output=True, text=True, timeout=180)


def test_cli_shows_every_transaction_and_asks(paths, library) -> None:
    """A fresh chain: the plan lists the first-use factory deployments too; declining sends
    nothing; --max-fee below the plan refuses; a sufficient --max-fee mints within it."""
    me = make_wallet(paths)
    with start_anvil() as node:
        import asyncio

        asyncio.run(fund_account(node.url, me.address, 10 * ONE_ETH))
        profile = add_local_profile(paths, node.url, name="Fresh anvil")
        file = paths.data_dir.parent / "asked.png"
        file.write_bytes(os.urandom(64))
        base = [str(file), "--chain", profile.id, "--split", f"{Account.create().address}=25"]

        declined = studio_mint(*base, stdin="n\n")
        assert declined.returncode == 1 and "Not confirmed: nothing was sent" in declined.stderr
        for line in ("Chain: Fresh anvil (chain id 31337)", "Transactions to send: 5",
                     "deploy CollectionFactory (first use of this chain)",
                     "deploy SplitFactory (first use of this chain)",
                     "create the royalty split (2 recipients)", "Maximum total fee:"):
            assert line in declined.stderr, declined.stderr
        assert TxStore(library).list() == []

        too_low = studio_mint(*base, "--max-fee", "0.000001")
        assert too_low.returncode == 1 and "above --max-fee 0.000001" in too_low.stderr
        assert TxStore(library).list() == []

        done = studio_mint(*base, "--max-fee", "1", "--json")
        assert done.returncode == 0, done.stderr
    txs = TxStore(library).list()
    assert len(txs) == 5 and sum(t.gas * t.max_fee for t in txs) <= 10**18
    # Each planned gas limit is an upper bound of what was signed (the guard relies on it).
    limits = {f"deploy {name}": gas for name, gas in GAS_DEPLOY.items()}
    limits |= {"create split": GAS_NEW_SPLIT_BASE + 2 * GAS_NEW_SPLIT_PER_RECIPIENT,
               "create collection": GAS_NEW_COLLECTION, "mint (": GAS_MINT}
    for t in txs:
        (limit,) = [g for prefix, g in limits.items() if t.purpose.startswith(prefix)]
        assert t.gas <= limit, (t.purpose, t.gas, limit)
