"""The mint after crashes and surprises, against a real anvil: the library asks the chain (a
token that is gone is reported and minted again), a transaction signed just before a crash is
sent before anything new (no nonce gap), a factory deployment the node refused is not followed
for ever, a retry that signs the same bytes reuses their record, the minted flag and the mint
row are written together, and a step's row left pending by a crash is closed.

Crashes are real: ``studio mint`` runs as a subprocess killed (SIGKILL) at a named point
(``STUDIO_CRASH_AT``, see studio/core/crashpoints.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from eth_account import Account

from studio.core.chain.anvil_binary import find_anvil, start_anvil
from studio.core.chain.mint import MintWorkflow
from studio.core.chain.mintstore import MintState, MintStore
from studio.core.chain.plan import MintError
from studio.core.chain.sandbox import fund_account
from studio.core.chain.txmanager import BroadcastRejected, TransactionManager
from studio.core.chain.txstore import TxStatus, TxStore
from tests.chain.mint_support import (  # noqa: F401  (fixture)
    ONE_ETH,
    add_asset,
    add_local_profile,
    keyring_service,
    make_wallet,
    rpc,
    three_way,
)

pytestmark = pytest.mark.skipif(find_anvil() is None,
                                reason="anvil not installed (npm ci in contracts/)")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOB = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
CAROL = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def plan_for(me, asset, collection=("Recovery Tests", "RCV")):
    return three_way(me.address, Account.create().address, Account.create().address,
                     asset_id=asset.id, collection=collection)


def studio_mint(*args: str, crash_at: str | None = None, timeout: float = 120):
    env = {**os.environ, "PYTHONPATH": REPO}
    env.pop("STUDIO_CRASH_AT", None)
    if crash_at:
        env["STUDIO_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-m", "studio", "mint", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


# -- 2. the library against the chain -------------------------------------------------------


async def test_a_token_gone_from_the_chain_is_reported_and_minted_again(anvil, library,
                                                                         ready) -> None:
    me, profile = ready
    asset = add_asset(library, os.urandom(64), "lost")
    said: list[str] = []
    async with TransactionManager(library, profile, anvil.url) as tm:
        snapshot = await rpc(tm.w3, "evm_snapshot")
        flow = MintWorkflow(library, tm, me, poll_interval=0.05,
                            progress=lambda rec, message: said.append(message))
        done = await flow.run((await flow.begin(plan_for(me, asset))).id)
        assert done.state == MintState.MINTED and library.minted_ids() == {asset.id}
        assert await rpc(tm.w3, "evm_revert", snapshot)  # the chain forgets it (a reset)

        # Refresh asks the chain instead of repeating the stored "confirmed".
        assert (await tm.refresh(done.mint_tx)).status != TxStatus.CONFIRMED

        again = await flow.begin(plan_for(me, asset))  # not "already minted"
        assert again.id == done.id and again.state == MintState.PUBLISHED
        assert "no longer on Local anvil" in again.error and "Mint the file again" in again.error
        assert any("no longer on" in m for m in said)  # reported, in plain words
        assert library.minted_ids() == set()

        final = await flow.run(again.id)
        assert final.state == MintState.MINTED and final.token_id == int(asset.sha256, 16)
        assert await flow.token_of(final.collection, asset.sha256) == final.token_id
        assert library.minted_ids() == {asset.id}


# -- 3. no nonce gap after a crash between signing and recording -----------------------------


async def test_a_saved_unsent_transaction_goes_out_before_a_new_one(anvil, library,
                                                                      ready) -> None:
    me, profile = ready
    async with TransactionManager(library, profile, anvil.url) as tm:
        orphan = await tm.prepare(me, to=BOB, value=1, purpose="signed, then the app died")
        assert orphan.status == TxStatus.SIGNED
        new = await tm.send(me, to=CAROL, value=2, purpose="the next send")
        assert new.nonce == orphan.nonce + 1
        assert tm.store.get(orphan.id).status != TxStatus.SIGNED  # broadcast first
        for tx_id in (orphan.id, new.id):  # both mined: no gap for the chain to wait on
            assert (await tm.wait(tx_id, timeout=20, poll_interval=0.05)).status == \
                TxStatus.CONFIRMED


async def test_killed_after_signing_the_mint_resumes_without_a_gap(anvil, paths, library,
                                                                    ready) -> None:
    me, profile = ready
    file = paths.data_dir.parent / "gap.png"
    file.write_bytes(os.urandom(80))
    killed = studio_mint(str(file), "--yes", "--title", "Gap", "--new-collection",
                         "Gap Tests:GAP", "--chain", profile.id, crash_at="signed:mint")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (rec,) = MintStore(library).list()
    assert rec.state == MintState.MINTING and rec.mint_tx is None  # signed, never linked
    (orphan,) = [t for t in TxStore(library).list() if t.purpose.startswith("mint (")]
    assert orphan.status == TxStatus.SIGNED

    out = studio_mint("--resume", "--yes", "--chain", profile.id, "--json", timeout=90)
    assert out.returncode == 0, out.stderr
    (result,) = json.loads(out.stdout)
    assert result["state"] == "minted" and result["id"] == rec.id
    (mint_tx,) = [t for t in TxStore(library).list() if t.purpose.startswith("mint (")]
    assert mint_tx.id == orphan.id and mint_tx.status == TxStatus.CONFIRMED  # the same tx
    nonces = sorted(t.nonce for t in TxStore(library).list() if t.from_addr == me.address
                    and t.status == TxStatus.CONFIRMED)
    assert nonces == list(range(nonces[0], nonces[0] + len(nonces)))
    assert library.minted_ids() == {rec.asset_id}


# -- 4 and 5. minting before funding; a retry that signs the same bytes ----------------------


async def test_minting_before_funding_works_once_funded(paths, library) -> None:
    """A fresh chain (no factories yet) and an empty account: the refused factory deployment
    is not followed for ever once the account has money."""
    me = make_wallet(paths)
    with start_anvil() as node:
        profile = add_local_profile(paths, node.url, name="Fresh anvil")
        asset = add_asset(library, os.urandom(64), "unfunded")
        async with TransactionManager(library, profile, node.url) as tm:
            flow = MintWorkflow(library, tm, me, poll_interval=0.05)
            first = await flow.begin(plan_for(me, asset))
            with pytest.raises(MintError, match=r"(?i)insufficient funds"):
                await flow.run(first.id)
            deploys = [t for t in TxStore(library).list() if t.purpose.startswith("deploy")]
            assert deploys and all(t.status == TxStatus.FAILED for t in deploys)

            await fund_account(node.url, me.address, 10 * ONE_ETH)
            second = await flow.begin(plan_for(me, asset))
            done = await flow.run(second.id)
            assert done.state == MintState.MINTED and library.minted_ids() == {asset.id}
            txs = TxStore(library).list()
            assert len({t.hash for t in txs}) == len(txs)  # one record per transaction


async def test_a_retry_signing_the_same_bytes_reuses_their_record(anvil, library,
                                                                   ready) -> None:
    _me, profile = ready
    poor = Account.create()
    async with TransactionManager(library, profile, anvil.url) as tm:
        with pytest.raises(BroadcastRejected, match=r"(?i)insufficient funds"):
            await tm.send(poor, to=BOB, value=0, purpose="before funding")
        (refused,) = [t for t in tm.store.list() if t.from_addr == poor.address]
        assert refused.status == TxStatus.FAILED
        await fund_account(anvil.url, poor.address, ONE_ETH)  # no block mined: same fees
        again = await tm.send(poor, to=BOB, value=0, purpose="after funding")
        assert again.id == refused.id and again.hash == refused.hash
        assert (await tm.wait(again.id, timeout=20, poll_interval=0.05)).status == \
            TxStatus.CONFIRMED


# -- 6. the minted flag and the mint row together; stale pending rows ------------------------


async def test_killed_right_after_minting_leaves_flag_and_row_together(anvil, paths, library,
                                                                       ready) -> None:
    _me, profile = ready
    file = paths.data_dir.parent / "flag.png"
    file.write_bytes(os.urandom(80))
    killed = studio_mint(str(file), "--yes", "--new-collection", "Flag Tests:FLAG",
                         "--chain", profile.id, crash_at="minted")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (rec,) = MintStore(library).list()
    assert rec.state == MintState.MINTED and library.minted_ids() == {rec.asset_id}


async def test_a_step_left_pending_by_a_crash_is_closed_on_rerun(anvil, paths, library,
                                                                 ready) -> None:
    _me, profile = ready
    file = paths.data_dir.parent / "stale.png"
    file.write_bytes(os.urandom(80))
    killed = studio_mint(str(file), "--yes", "--new-collection", "Stale Tests:STALE",
                         "--split", f"{Account.create().address}=30", "--chain", profile.id,
                         crash_at="broadcast:create split")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (rec,) = MintStore(library).list()
    assert TxStore(library).get(rec.split_tx).status == TxStatus.PENDING  # mined, unrecorded

    out = studio_mint("--resume", "--yes", "--chain", profile.id, "--json", timeout=90)
    assert out.returncode == 0, out.stderr
    rec = MintStore(library).get(rec.id)
    assert rec.state == MintState.MINTED
    assert TxStore(library).get(rec.split_tx).status == TxStatus.CONFIRMED
    assert not [t for t in TxStore(library).list() if t.status == TxStatus.PENDING]
