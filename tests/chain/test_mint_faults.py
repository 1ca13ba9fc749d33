"""The mint workflow under faults, against a real anvil: the endpoint down before broadcast and
after it, a SIGKILLed `studio mint` resumed, a chain-id mismatch, a reverting (bad) split and a
reorg. Each ends with a clear message, a consistent library, and never a second mint.

The outages come from FlakyProxy, a FAKE network fault: a small HTTP proxy in front of the
real anvil that refuses requests on demand (a real outage cannot be scheduled to the call)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from aiohttp import ClientSession, web
from eth_account import Account
from web3 import Web3

from studio.core.chain.anvil_binary import find_anvil
from studio.core.chain.mint import MintWorkflow
from studio.core.chain.mintstore import MintState, MintStore
from studio.core.chain.plan import MintError
from studio.core.chain.rpc import ChainIdMismatch, EndpointUnavailable
from studio.core.chain.txmanager import TransactionManager
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


class FlakyProxy:
    """FAKE outage: forwards JSON-RPC to anvil; from the ``fail_from``-th
    eth_sendRawTransaction on, answers 503 (before forwarding it, or right after when
    ``after_send``) and keeps answering 503 until ``up()``."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.sends = 0
        self.fail_from: int | None = None
        self.after_send = False
        self.down = False

    def up(self) -> None:
        self.down, self.fail_from = False, None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.down:
            return web.Response(status=503, text="down")
        is_send = b"eth_sendRawTransaction" in body
        if is_send:
            self.sends += 1
        failing = is_send and self.fail_from is not None and self.sends >= self.fail_from
        if failing and not self.after_send:
            self.down = True
            return web.Response(status=503, text="down")
        async with ClientSession() as s, s.post(self.target, data=body, headers={
                "Content-Type": "application/json"}) as r:
            payload = await r.read()
        if failing:
            self.down = True  # the node got it; the answer never comes back
            return web.Response(status=503, text="down")
        return web.Response(body=payload, content_type="application/json")

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_post("/", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()


def mint_txs(library) -> list:
    return [r for r in TxStore(library).list() if r.purpose.startswith("mint (")]


def plan_for(me, asset):
    return three_way(me.address, Account.create().address, Account.create().address,
                     asset_id=asset.id)


@pytest.mark.parametrize("after_send", [False, True], ids=["before-broadcast",
                                                           "after-broadcast"])
async def test_endpoint_down_then_resume(anvil, library, ready, after_send) -> None:
    me, profile = ready
    asset = add_asset(library, os.urandom(64), "outage")
    proxy = FlakyProxy(anvil.url)
    async with proxy as url, TransactionManager(library, profile, url) as tm:
        flow = MintWorkflow(library, tm, me, poll_interval=0.05)
        mint = flow.create(plan_for(me, asset))
        proxy.fail_from, proxy.after_send = proxy.sends + 3, after_send  # split, coll., mint
        with pytest.raises(EndpointUnavailable, match="Cannot reach the RPC endpoint"):
            await flow.run(mint.id)
        rec = MintStore(library).get(mint.id)
        assert rec.state == MintState.MINTING and "Cannot reach" in rec.error
        (tx,) = mint_txs(library)
        assert tx.status == TxStatus.SIGNED  # persisted; the app never heard back
        assert library.minted_ids() == set()
        proxy.up()  # the endpoint is back
        on_chain = await flow.token_of(rec.collection, asset.sha256)
        assert (on_chain != 0) == after_send  # the node got it only in the second case
        done = await flow.run(mint.id)
    assert done.state == MintState.MINTED and done.token_id == int(asset.sha256, 16)
    assert len(mint_txs(library)) == 1 and mint_txs(library)[0].status == TxStatus.CONFIRMED
    assert library.minted_ids() == {asset.id}
    with pytest.raises(MintError, match="already minted"):
        flow.create(plan_for(me, asset))


async def test_killed_between_broadcast_and_receipt_resumes(anvil, paths, library,
                                                             ready) -> None:
    _me, profile = ready
    file = paths.data_dir.parent / "work.png"
    file.write_bytes(os.urandom(80))
    w3 = Web3(Web3.HTTPProvider(anvil.url))
    env = {**os.environ, "PYTHONPATH": REPO}
    cmd = [sys.executable, "-m", "studio", "mint", str(file), "--yes", "--title", "Killed",
           "--new-collection", "Kill Tests:KILL", "--royalty", "5", "--chain", profile.id,
           "--split", f"{Account.create().address}=40"]
    w3.provider.make_request("evm_setAutomine", [False])
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        killed = False
        while time.monotonic() < deadline and proc.poll() is None:
            rows = library.query("SELECT m.state, t.status FROM mints m LEFT JOIN "
                                 "transactions t ON t.id = m.mint_tx")
            if rows and rows[0][0] == "minting" and rows[0][1] == "pending":
                proc.send_signal(signal.SIGKILL)  # broadcast, receipt not seen yet
                killed = True
                break
            if not rows or rows[0][0] != "minting":
                w3.provider.make_request("evm_mine", [])  # mine the earlier steps only
            await asyncio.sleep(0.1)
        proc.wait(10)
        assert killed, proc.stdout.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
        w3.provider.make_request("evm_setAutomine", [True])
    (rec,) = MintStore(library).list()
    assert rec.state == MintState.MINTING and library.minted_ids() == set()
    w3.provider.make_request("evm_mine", [])  # the chain moves on without the app

    out = subprocess.run([*cmd[:4], "--resume", "--yes", "--chain", profile.id, "--json"], env=env,
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    (result,) = json.loads(out.stdout)
    assert result["state"] == "minted" and result["id"] == rec.id
    assert len(mint_txs(library)) == 1  # followed by hash, never re-sent
    assert library.minted_ids() == {rec.asset_id}


async def test_chain_id_mismatch_sends_nothing(anvil, library, ready) -> None:
    me, profile = ready
    wrong = dataclasses.replace(profile, chain_id=11155111)
    asset = add_asset(library, os.urandom(64), "mismatch")
    before = len(TxStore(library).list())
    async with TransactionManager(library, wrong, anvil.url) as tm:
        flow = MintWorkflow(library, tm, me, poll_interval=0.05)
        mint = flow.create(plan_for(me, asset))
        with pytest.raises(ChainIdMismatch, match=r"on chain 31337.*expects chain 11155111"):
            await flow.run(mint.id)
    rec = MintStore(library).get(mint.id)
    assert rec.state == MintState.PUBLISHED and "Nothing was sent" in rec.error
    assert len(TxStore(library).list()) == before and library.minted_ids() == set()


async def test_bad_split_reverts_and_fails_cleanly(anvil, library, ready) -> None:
    me, profile = ready
    asset = add_asset(library, os.urandom(64), "bad split")
    store = MintStore(library)
    async with TransactionManager(library, profile, anvil.url) as tm:
        flow = MintWorkflow(library, tm, me, poll_interval=0.05)
        good = flow.create(plan_for(me, asset))
        # A record whose shares sum to 99 % (written by hand: validation would refuse it).
        split = [dict(e) for e in good.split]
        split[0]["allocation"] -= 10_000
        store.update(good.id, split_json=json.dumps(split))
        before = len(TxStore(library).list())
        with pytest.raises(MintError, match=r"BadAllocationSum\(sum=990000\)"):
            await flow.run(good.id)
    rec = store.get(good.id)
    assert rec.state == MintState.FAILED and "BadAllocationSum" in rec.error
    assert len(TxStore(library).list()) == before  # refused in the dry run: nothing sent
    assert library.minted_ids() == set() and library.get(asset.id) is not None


async def test_reorg_is_noticed_and_the_mint_resent(anvil, library, ready) -> None:
    me, profile = ready
    asset = add_asset(library, os.urandom(64), "reorg")
    sync = Web3(Web3.HTTPProvider(anvil.url))
    snapshot: list[str] = []

    def on_progress(rec, message: str) -> None:
        if message == "minting":  # written before the mint is sent
            snapshot.append(sync.provider.make_request("evm_snapshot", [])["result"])

    async with TransactionManager(library, profile, anvil.url) as tm:
        flow = MintWorkflow(library, tm, me, progress=on_progress, poll_interval=0.05)
        done = await flow.run(flow.create(plan_for(me, asset)).id)
        assert done.state == MintState.MINTED and len(snapshot) == 1
        assert await rpc(tm.w3, "evm_revert", snapshot[0])  # the mint's block is gone
        assert await flow.token_of(done.collection, asset.sha256) == 0

        again = await flow.recheck(done.id)
        assert again.state == MintState.MINTED and again.token_id == done.token_id
        assert await flow.token_of(done.collection, asset.sha256) == done.token_id
        (tx,) = mint_txs(library)
        assert tx.reorgs >= 1 and tx.status == TxStatus.CONFIRMED  # same raw tx, re-sent
        assert library.minted_ids() == {asset.id}
        assert (await flow.recheck(done.id)).state == MintState.MINTED  # stable now
