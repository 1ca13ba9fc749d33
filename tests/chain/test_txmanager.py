"""The transaction manager against a real anvil node (the Sandbox).

The dev account below is anvil's first well-known test account; the wallet service is not
involved here (its integration comes with the mint workflow).
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from studio.core.chain.anvil_binary import find_anvil, free_port
from studio.core.chain.profiles import sandbox_profile
from studio.core.chain.revert import decode_revert
from studio.core.chain.rpc import ChainIdMismatch, EndpointUnavailable
from studio.core.chain.sandbox import Sandbox
from studio.core.chain.txmanager import RevertError, TransactionManager, bump
from studio.core.chain.txstore import TxStatus

pytestmark = pytest.mark.skipif(
    find_anvil() is None, reason="anvil not installed (npm ci in contracts/)"
)

DEV = Account.from_key("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
BOB = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
REVERTER = "0x00000000000000000000000000000000000Dead1"
NOT_OWNER_ABI = [
    {
        "type": "error",
        "name": "NotOwner",
        "inputs": [{"name": "caller", "type": "address"}, {"name": "tokenId", "type": "uint256"}],
    }
]


def reverting_code(payload: bytes) -> str:
    """Runtime bytecode that reverts with ``payload`` on every call."""
    n = len(payload).to_bytes(2, "big")
    prelude = b"\x61" + n + b"\x60\x0e\x60\x00\x39" + b"\x61" + n + b"\x60\x00\xfd"
    assert len(prelude) == 14
    return "0x" + (prelude + payload).hex()


@pytest.fixture
def sandbox(paths):
    box = Sandbox(paths.data_dir)
    box.start()
    yield box
    box.stop()


def profile(confirmations: int = 1, chain_id: int | None = None):
    p = dataclasses.replace(sandbox_profile(), confirmations=confirmations)
    return dataclasses.replace(p, chain_id=chain_id) if chain_id else p


async def refresh_until(tm: TransactionManager, tx_id: int, done, attempts: int = 200):
    """Refresh a record until ``done(record)``; bounded (about 10 s), never a timing check."""
    for _ in range(attempts):
        rec = await tm.refresh(tx_id)
        if done(rec):
            return rec
        await asyncio.sleep(0.05)
    return rec


async def rpc(tm: TransactionManager, method: str, *params):
    response = await tm.w3.provider.make_request(method, list(params))
    assert "error" not in response, response
    return response["result"]


async def test_transfer_reaches_required_confirmations(sandbox, library) -> None:
    async with TransactionManager(library, profile(confirmations=3), sandbox.url) as tm:
        before = await tm.w3.eth.get_balance(BOB)
        rec = await tm.send(DEV, to=BOB.lower(), value=10**15, purpose="test transfer")
        assert rec.status == TxStatus.PENDING
        stored = tm.store.by_hash(rec.hash)
        assert stored is not None and stored.raw.startswith("0x02")  # EIP-1559, persisted
        assert stored.max_fee >= stored.max_priority_fee > 0
        # Automine mines right after the send, but the receipt can lag the send's answer.
        rec = await refresh_until(tm, rec.id, lambda r: r.status != TxStatus.PENDING)
        assert (rec.status, rec.confirmations) == (TxStatus.INCLUDED, 1)
        await rpc(tm, "anvil_mine", "0x2")
        rec = await tm.wait(rec.id, timeout=10, poll_interval=0.1)
        assert rec.status == TxStatus.CONFIRMED and rec.confirmations == 3
        assert await tm.w3.eth.get_balance(BOB) == before + 10**15


async def test_chain_id_mismatch_is_refused_before_signing(sandbox, library) -> None:
    async with TransactionManager(library, profile(chain_id=1), sandbox.url) as tm:
        nonce = await tm.w3.eth.get_transaction_count(DEV.address, "pending")
        with pytest.raises(ChainIdMismatch, match=r"chain 31337.*expects chain 1"):
            await tm.send(DEV, to=BOB, value=1)
        assert tm.store.list() == []
        assert await tm.w3.eth.get_transaction_count(DEV.address, "pending") == nonce


async def test_revert_reason_shown_and_nothing_sent(sandbox, library) -> None:
    async with TransactionManager(library, profile(), sandbox.url) as tm:
        error_payload = bytes.fromhex("08c379a0") + encode(["string"], ["sale is closed"])
        await rpc(tm, "anvil_setCode", REVERTER, reverting_code(error_payload))
        nonce = await tm.w3.eth.get_transaction_count(DEV.address, "pending")
        with pytest.raises(RevertError, match="sale is closed") as info:
            await tm.send(DEV, to=REVERTER, data=b"\x12\x34\x56\x78")
        assert "Nothing was sent" in str(info.value)

        custom = keccak(text="NotOwner(address,uint256)")[:4] + encode(
            ["address", "uint256"], [BOB, 7]
        )
        await rpc(tm, "anvil_setCode", REVERTER, reverting_code(custom))
        with pytest.raises(RevertError) as info:
            await tm.send(DEV, to=REVERTER, data=b"\x01", abi=NOT_OWNER_ABI)
        assert info.value.reason == f"NotOwner(caller={BOB}, tokenId=7)"
        with pytest.raises(RevertError, match="custom error 0x"):
            await tm.send(DEV, to=REVERTER, data=b"\x01")

        assert tm.store.list() == []
        assert await tm.w3.eth.get_transaction_count(DEV.address, "pending") == nonce


def test_decode_revert_panic_and_garbage() -> None:
    panic = bytes.fromhex("4e487b71") + encode(["uint256"], [0x11])
    assert "overflow" in decode_revert(panic)
    assert "undecodable" in decode_revert(bytes.fromhex("08c379a0") + b"\x00" * 3)
    assert decode_revert(b"") == "reverted without a reason"


async def test_endpoint_down_before_broadcast_stays_retryable(sandbox, library) -> None:
    async with TransactionManager(library, profile(), sandbox.url) as tm:
        rec = await tm.prepare(DEV, to=BOB, value=5, purpose="retry me")
    dead = f"http://127.0.0.1:{free_port()}"
    async with TransactionManager(library, profile(), dead, timeout=3) as down:
        with pytest.raises(EndpointUnavailable, match="Cannot reach the RPC endpoint"):
            await down.broadcast(rec.id)
    kept = down.store.get(rec.id)
    assert kept.status == TxStatus.SIGNED and "Cannot reach" in kept.error
    assert kept.raw == rec.raw
    async with TransactionManager(library, profile(), sandbox.url) as tm:
        (resumed,) = await tm.resume_pending()
        assert resumed.status in (TxStatus.PENDING, TxStatus.CONFIRMED)
        final = await tm.wait(rec.id, timeout=10, poll_interval=0.1)
        assert final.status == TxStatus.CONFIRMED and final.error is None


async def test_resume_after_node_restart_finds_by_hash(paths, library) -> None:
    box = Sandbox(paths.data_dir)
    box.start()
    try:
        async with TransactionManager(library, profile(), box.url) as tm:
            mined = await tm.send(DEV, to=BOB, value=1, purpose="mined before stop")
            await rpc(tm, "evm_setAutomine", False)
            waiting = await tm.send(DEV, to=BOB, value=2, purpose="in the mempool at stop")
            assert waiting.nonce == mined.nonce + 1
        box.stop()  # the endpoint goes away after broadcast
        box.start()  # same state file, new port
        async with TransactionManager(library, profile(), box.url) as tm:
            resumed = {r.id: r for r in await tm.resume_pending()}
            assert resumed[mined.id].status == TxStatus.CONFIRMED  # found by hash
            # The restarted node had lost its mempool: the raw bytes were sent again.
            assert resumed[waiting.id].status in (TxStatus.PENDING, TxStatus.CONFIRMED)
            await rpc(tm, "evm_mine")
            assert (await tm.refresh(waiting.id)).status == TxStatus.CONFIRMED
    finally:
        box.stop()


async def test_already_known_and_nonce_too_low_are_checked_by_hash(sandbox, library) -> None:
    async with TransactionManager(library, profile(), sandbox.url) as tm:
        await rpc(tm, "evm_setAutomine", False)
        rec = await tm.send(DEV, to=BOB, value=3)
        again = await tm.broadcast(rec.id)  # node: "transaction already imported"
        assert again.status == TxStatus.PENDING and again.error is None
        await rpc(tm, "evm_mine")
        tm.store.update(rec.id, status=str(TxStatus.SIGNED))  # as if the crash came first
        again = await tm.broadcast(rec.id)  # node: "nonce too low"
        assert again.status == TxStatus.CONFIRMED and again.block_number is not None


async def test_speed_up_and_cancel_replace_with_higher_fees(sandbox, library) -> None:
    async with TransactionManager(library, profile(), sandbox.url) as tm:
        await rpc(tm, "evm_setAutomine", False)
        slow = await tm.send(DEV, to=BOB, value=4, purpose="slow")
        fast = await tm.speed_up(slow.id, DEV)
        assert fast.nonce == slow.nonce and fast.replaces == slow.id
        assert fast.max_priority_fee * 8 >= slow.max_priority_fee * 9
        assert fast.max_fee * 8 >= slow.max_fee * 9
        assert (fast.to_addr, fast.value) == (slow.to_addr, slow.value)
        await rpc(tm, "evm_mine")
        assert (await tm.refresh(fast.id)).status == TxStatus.CONFIRMED
        assert (await tm.refresh(slow.id)).status == TxStatus.REPLACED

        before = await tm.w3.eth.get_balance(BOB)
        doomed = await tm.send(DEV, to=BOB, value=10**18, purpose="changed my mind")
        stop = await tm.cancel(doomed.id, DEV)
        assert stop.to_addr == DEV.address and stop.value == 0 and stop.nonce == doomed.nonce
        assert stop.max_fee * 8 >= doomed.max_fee * 9
        await rpc(tm, "evm_mine")
        assert (await tm.refresh(stop.id)).status == TxStatus.CONFIRMED
        assert (await tm.refresh(doomed.id)).status == TxStatus.REPLACED
        assert await tm.w3.eth.get_balance(BOB) == before
        with pytest.raises(Exception, match="only a transaction that is not mined"):
            await tm.speed_up(stop.id, DEV)


async def test_reorg_is_noticed_and_recovered(sandbox, library) -> None:
    async with TransactionManager(library, profile(confirmations=2), sandbox.url) as tm:
        snapshot = await rpc(tm, "evm_snapshot")
        rec = await tm.send(DEV, to=BOB, value=6)
        # anvil mines on a task of its own: under load the receipt can lag the send a little.
        rec = await refresh_until(tm, rec.id, lambda r: r.status == TxStatus.INCLUDED)
        assert rec.status == TxStatus.INCLUDED and rec.block_hash
        old_block = rec.block_hash
        assert await rpc(tm, "evm_revert", snapshot) is True  # the block is gone
        await rpc(tm, "anvil_mine", "0x2")
        rec = await tm.refresh(rec.id)  # notices, then rebroadcasts the raw bytes
        assert rec.reorgs == 1
        await rpc(tm, "anvil_mine", "0x1")
        rec = await tm.wait(rec.id, timeout=10, poll_interval=0.1)
        assert rec.status == TxStatus.CONFIRMED and rec.block_hash != old_block


@pytest.mark.parametrize("value", [0, 1, 7, 8, 9, 10**9, 3 * 10**9 + 1])
def test_bump_is_at_least_twelve_and_a_half_percent(value: int) -> None:
    assert bump(value) * 8 >= value * 9 and bump(value) > value
