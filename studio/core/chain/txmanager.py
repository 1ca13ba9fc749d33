"""The transaction manager: checked, persisted, resumable sends (web3.py AsyncWeb3).

Every send: chain id checked against the profile; an ``eth_call`` dry run and ``estimate_gas``
(revert reasons decoded); EIP-1559 fees; the pending nonce re-read; the signed raw transaction
written to the library BEFORE it is broadcast. After that, everything is found again by hash:
receipts are followed to the profile's confirmations, block hashes are re-checked to notice
reorgs, and :meth:`TransactionManager.resume_pending` picks up after a crash or a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from studio.core.chain.revert import decode_revert, revert_data
from studio.core.chain.rpc import (
    DEFAULT_TIMEOUT_S,
    ChainError,
    EndpointUnavailable,
    check_chain_id,
    connect,
    endpoint_error,
)
from studio.core.chain.txstore import TxRecord, TxStatus, TxStore
from studio.core.library import Library
from studio.core.settings import ChainProfile

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from studio.core.chain.fees import FeeGuard, FeeQuote

log = logging.getLogger(__name__)

# A replacement must raise both fee fields by at least 12.5 % (geth's default price bump).
BUMP_NUM, BUMP_DEN = 9, 8
_ALREADY_KNOWN = ("already known", "already imported", "known transaction", "alreadyknown")
_NONCE_TOO_LOW = ("nonce too low", "noncetoolow", "oldnonce", "nonce is too low")


class RevertError(ChainError):
    """The dry run reverted: nothing was signed or sent."""

    def __init__(self, reason: str, data: bytes | None = None) -> None:
        super().__init__(f"The transaction would fail: {reason}. Nothing was sent.")
        self.reason = reason
        self.data = data


class BroadcastRejected(ChainError):
    """The node refused the transaction for good (recorded as failed)."""


def bump(value: int) -> int:
    """``value`` raised by at least 12.5 % (rounded up) and by at least 1."""
    return max(value + 1, -(-value * BUMP_NUM // BUMP_DEN))


def _rpc_message(exc: BaseException) -> str:
    response = getattr(exc, "rpc_response", None)
    if isinstance(response, dict) and isinstance(response.get("error"), dict):
        return str(response["error"].get("message", exc))
    return str(exc)


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value)
    return text if text.startswith("0x") else "0x" + text


class TransactionManager:
    """Sends and follows transactions for one profile. Use as ``async with``."""

    def __init__(self, library: Library, profile: ChainProfile, url: str, *,
                 timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.profile = profile
        self.url = url
        self.store = TxStore(library)
        self.w3 = connect(url, timeout)
        # Set while the user's fee confirmation holds (a mint): signing above it stops.
        self.fee_guard: FeeGuard | None = None
        self._holding_fees = False
        self._held_quote: FeeQuote | None = None
        self._chain_checked = False  # the endpoint answered the profile's chain id
        # Per-session memo (e.g. the factories' addresses once their code was seen).
        self.session: dict[str, Any] = {}

    async def __aenter__(self) -> TransactionManager:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.w3.provider.disconnect()

    # -- helpers ------------------------------------------------------------------------------

    async def _rpc(self, coro):
        """Await an RPC call, turning transport failures into EndpointUnavailable."""
        try:
            return await coro
        except Exception as exc:
            if (err := endpoint_error(self.url, exc)) is not None:
                raise err from exc
            raise

    async def check_chain(self, *, fresh: bool = False) -> None:
        """Refuse unless the endpoint is on the profile's chain. Checked once per session,
        and again (``fresh``) right before every broadcast: that check is what keeps a
        transaction off a wrong chain, so it is never cached."""
        if fresh or not self._chain_checked:
            await check_chain_id(self.w3, self.profile.chain_id, self.url)
            self._chain_checked = True

    async def fee_quote(self) -> FeeQuote:
        from studio.core.chain.fees import quote

        if self._held_quote is not None:
            return self._held_quote
        q = await quote(self)
        if self._holding_fees:
            self._held_quote = q
        return q

    @contextlib.asynccontextmanager
    async def held_fees(self) -> AsyncIterator[None]:
        """One fee quote for every transaction signed inside (the transactions of one mint,
        seconds apart), instead of a fee-history read per transaction. The fee guard still
        checks each signed transaction against what the user confirmed."""
        if self._holding_fees:
            yield
            return
        self._holding_fees = True
        try:
            yield
        finally:
            self._holding_fees = False
            self._held_quote = None

    async def fees(self) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas) for the next block, bounded by the chain's
        recent fee history and the profile's maximum (see studio.core.chain.fees)."""
        q = await self.fee_quote()
        return q.max_fee_per_gas, q.tip

    async def dry_run(self, tx: dict[str, Any], abi: Sequence[dict] | None = None) -> int:
        """``estimate_gas`` (it executes the call, so a revert shows here); returns the gas
        estimate or raises RevertError. Only when the node's estimate fails without revert
        data is an ``eth_call`` made, for the reason."""
        from web3.exceptions import ContractLogicError, Web3RPCError

        try:
            return int(await self._rpc(self.w3.eth.estimate_gas(tx)))
        except (ContractLogicError, Web3RPCError) as exc:
            data = revert_data(exc)
            if data is None:
                try:
                    await self._rpc(self.w3.eth.call(tx, "latest"))
                except (ContractLogicError, Web3RPCError) as call_exc:
                    exc, data = call_exc, revert_data(call_exc)
            reason = decode_revert(data, abi) if data else _rpc_message(exc)
            raise RevertError(reason, data) from exc

    async def _next_nonce(self, address: str) -> int:
        pending = int(await self._rpc(self.w3.eth.get_transaction_count(address, "pending")))
        # A signed transaction no node has yet still holds its nonce.
        local = self.store.highest_open_nonce(self.profile.chain_id, address)
        return pending if local is None else max(pending, local + 1)

    def _sign_and_persist(self, account: LocalAccount, tx: dict[str, Any], purpose: str,
                          replaces: int | None = None) -> TxRecord:
        signed = account.sign_transaction(tx)
        same = self.store.by_hash(_hex(signed.hash))
        if same is not None:
            # Byte-identical to one signed before (a retry after the node refused it, say for
            # insufficient funds): the same transaction, so the same record.
            if same.status == TxStatus.FAILED:
                return self.store.update(same.id, status=str(TxStatus.SIGNED), error=None)
            return same
        return self.store.insert(
            profile=self.profile.id, chain_id=self.profile.chain_id, from_addr=account.address,
            to_addr=tx.get("to"), nonce=tx["nonce"], value=tx.get("value", 0),
            data=_hex(tx.get("data", b"")), gas=tx["gas"], max_fee=tx["maxFeePerGas"],
            max_priority_fee=tx["maxPriorityFeePerGas"], hash=_hex(signed.hash).lower(),
            raw=_hex(signed.raw_transaction), status=str(TxStatus.SIGNED), purpose=purpose,
            replaces=replaces)

    # -- sending ------------------------------------------------------------------------------

    async def prepare(self, account: LocalAccount, *, to: str | None, value: int = 0,
                      data: bytes | str = b"", purpose: str = "",
                      abi: Sequence[dict] | None = None, gas: int | None = None,
                      reuse: bool = False) -> TxRecord:
        """Check, dry-run, sign and persist (status ``signed``); nothing is broadcast.

        Saved transactions of this account that no node has accepted yet are broadcast
        first (each holds a nonce; signing past one leaves a gap). With ``reuse`` (an
        idempotent step: a deployment, a mint) an open transaction with the same recipient,
        value and data, e.g. one signed just before a crash, is returned instead of a new
        one."""
        from web3 import AsyncWeb3

        await self.check_chain()  # before anything is signed
        if to is not None:
            if not AsyncWeb3.is_address(to):
                raise ChainError(f"{to!r} is not an Ethereum address")
            to = AsyncWeb3.to_checksum_address(to)
        if value < 0:
            raise ChainError("The value must not be negative")
        data_bytes = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else data
        if reuse and (same := await self.find_same_open(account.address, to, value,
                                                    data_bytes)) is not None:
            log.info("tx #%d: the same %s was signed before; reusing it", same.id, purpose)
            return same
        await self.settle_unsent(account.address)
        call = {"from": account.address, "value": value, "data": data_bytes}
        if to is not None:
            call["to"] = to
        estimate = await self.dry_run(call, abi)
        if gas is None:
            # Plain transfers cost exactly their estimate; contract calls get headroom.
            gas = estimate if not data_bytes else estimate + estimate // 5
        max_fee, tip = await self.fees()
        if self.fee_guard is not None:
            self.fee_guard.check(gas, max_fee)  # before the key is used
        tx = {**call, "gas": gas, "maxFeePerGas": max_fee, "maxPriorityFeePerGas": tip,
              "nonce": await self._next_nonce(account.address),
              "chainId": self.profile.chain_id, "type": 2}
        rec = self._sign_and_persist(account, tx, purpose)
        if self.fee_guard is not None:
            self.fee_guard.commit(rec.id, gas, max_fee)
        log.info("tx #%d signed: %s nonce %d (%s)", rec.id, rec.hash, rec.nonce, purpose)
        return rec

    async def find_same_open(self, sender: str, to: str | None, value: int,
                             data: bytes) -> TxRecord | None:
        """An open transaction of ``sender`` with this recipient, value and data (checked
        against the chain first), e.g. one signed just before a crash; or None."""
        wanted = "0x" + data.hex()
        for rec in self.store.open_from(self.profile.chain_id, sender):
            if (rec.to_addr or None) != to or rec.value != value or rec.data.lower() != wanted:
                continue
            rec = await self.refresh(rec.id, rebroadcast=False)
            if rec.status not in (TxStatus.REPLACED, TxStatus.FAILED, TxStatus.REVERTED):
                return rec
        return None

    async def settle_unsent(self, sender: str) -> list[TxRecord]:
        """Broadcast (in nonce order) every saved transaction of ``sender`` that no node has
        accepted yet, e.g. one signed just before a crash. One the node refuses for good is
        marked failed and frees its nonce; one whose nonce was taken is marked replaced."""
        out = []
        for rec in self.store.unsent(self.profile.chain_id, sender):
            try:
                out.append(await self.refresh(rec.id))
            except BroadcastRejected as exc:
                log.warning("tx #%d: %s", rec.id, exc)
                out.append(self._get(rec.id))
        return out

    async def send(self, account: LocalAccount, *, to: str | None, value: int = 0,
                   data: bytes | str = b"", purpose: str = "",
                   abi: Sequence[dict] | None = None, gas: int | None = None) -> TxRecord:
        rec = await self.prepare(account, to=to, value=value, data=data, purpose=purpose,
                                 abi=abi, gas=gas)
        return await self.broadcast(rec.id)

    async def broadcast(self, tx_id: int) -> TxRecord:
        """Send the persisted raw bytes. Safe to repeat: a node that already has them (or
        mined them) is checked by hash. An unreachable endpoint leaves it retryable."""
        from web3.exceptions import Web3RPCError

        rec = self._get(tx_id)
        if rec.is_final:
            return rec
        try:
            await self.check_chain(fresh=True)  # the safety check: never cached
            await self._rpc(self.w3.eth.send_raw_transaction(rec.raw))
        except EndpointUnavailable as exc:
            self.store.update(rec.id, error=str(exc))
            raise
        except Web3RPCError as exc:
            message = _rpc_message(exc)
            lowered = message.lower().replace(" ", "")
            if any(k.replace(" ", "") in lowered for k in _ALREADY_KNOWN + _NONCE_TOO_LOW):
                log.info("tx #%d: node says %r; checking by hash", rec.id, message)
                return await self.refresh(rec.id, rebroadcast=False)
            self.store.update(rec.id, status=str(TxStatus.FAILED), error=message)
            raise BroadcastRejected(f"The node refused the transaction: {message}") from exc
        log.info("tx #%d broadcast: %s", rec.id, rec.hash)
        return self.store.update(rec.id, status=str(TxStatus.PENDING), error=None)

    # -- following ----------------------------------------------------------------------------

    def _get(self, tx_id: int) -> TxRecord:
        rec = self.store.get(tx_id)
        if rec is None:
            raise ChainError(f"No transaction #{tx_id} in the library")
        if rec.chain_id != self.profile.chain_id:
            raise ChainError(f"Transaction #{tx_id} belongs to chain {rec.chain_id}, not to "
                             f"{self.profile.name} ({self.profile.chain_id})")
        return rec

    async def refresh(self, tx_id: int, *, rebroadcast: bool = True) -> TxRecord:
        """Look the transaction up by hash and record what the chain says now."""
        from web3.exceptions import TransactionNotFound

        rec = self._get(tx_id)
        # Confirmed and reverted are asked again too: a reorg or a reset chain can take
        # back what the library believes.
        if rec.status in (TxStatus.REPLACED, TxStatus.FAILED):
            return rec
        try:
            receipt = await self._rpc(self.w3.eth.get_transaction_receipt(rec.hash))
        except TransactionNotFound:
            receipt = None
        if receipt is not None:
            return await self._record_receipt(rec, receipt)

        changes: dict[str, Any] = {}
        if rec.block_hash is not None:  # it was mined, and that block is gone: a reorg
            log.warning("tx #%d: block %s no longer holds it (reorg)", rec.id, rec.block_hash)
            changes = {"status": str(TxStatus.PENDING), "block_number": None,
                       "block_hash": None, "confirmations": 0, "reorgs": rec.reorgs + 1,
                       "error": f"Block {rec.block_number} was reorganised away; "
                                "waiting for the transaction to be mined again"}
        try:
            await self._rpc(self.w3.eth.get_transaction(rec.hash))
            known = True
        except TransactionNotFound:
            known = False
        if known:
            changes.setdefault("status", str(TxStatus.PENDING))
            return self.store.update(rec.id, **changes) if changes or \
                rec.status != TxStatus.PENDING else rec
        mined_nonce = int(await self._rpc(
            self.w3.eth.get_transaction_count(rec.from_addr, "latest")))
        if mined_nonce > rec.nonce:
            return self.store.update(rec.id, status=str(TxStatus.REPLACED),
                                     error="Another transaction with the same nonce was mined",
                                     block_number=None, block_hash=None, confirmations=0)
        if changes:
            rec = self.store.update(rec.id, **changes)
        if rebroadcast:
            pending_nonce = int(await self._rpc(
                self.w3.eth.get_transaction_count(rec.from_addr, "pending")))
            if rec.nonce > pending_nonce and not self.store.open_nonces_between(
                    rec.chain_id, rec.from_addr, pending_nonce, rec.nonce):
                # Nothing of ours can fill the nonces before it (the chain was reset, or
                # another wallet spent them): sent now, it would wait behind the gap forever.
                return self.store.update(
                    rec.id, status=str(TxStatus.FAILED),
                    error=f"No longer on the chain, and its nonce {rec.nonce} is ahead of the "
                          f"account's next nonce {pending_nonce}; it was not re-sent")
            log.info("tx #%d unknown to the node; rebroadcasting its raw bytes", rec.id)
            return await self.broadcast(rec.id)
        return rec

    async def _record_receipt(self, rec: TxRecord, receipt: Any) -> TxRecord:
        from web3.exceptions import BlockNotFound

        number = int(receipt["blockNumber"])
        block_hash = _hex(receipt["blockHash"]).lower()
        if self.profile.confirmations <= 1 and rec.block_hash in (None, block_hash):
            # One confirmation: the node serves receipts from its canonical chain, so the
            # receipt is the confirmation (a later reorg shows as a missing receipt).
            confirmations = 1
        else:
            try:
                # The node's canonical block at that height must be the receipt's block.
                canonical = await self._rpc(self.w3.eth.get_block(number))
                if _hex(canonical["hash"]).lower() != block_hash:
                    log.warning("tx #%d: receipt block %s is not canonical", rec.id,
                                block_hash)
                    return rec
            except BlockNotFound:
                pass  # anvil reloaded from a state dump keeps receipts but not old blocks
            latest = int(await self._rpc(self.w3.eth.block_number))
            confirmations = max(0, latest - number + 1)
        changes: dict[str, Any] = {"block_number": number, "block_hash": block_hash,
                                   "confirmations": confirmations}
        if rec.block_hash is not None and rec.block_hash != block_hash:
            changes["reorgs"] = rec.reorgs + 1
        ok = int(receipt["status"]) == 1
        if confirmations >= self.profile.confirmations:
            changes["status"] = str(TxStatus.CONFIRMED if ok else TxStatus.REVERTED)
        else:
            changes["status"] = str(TxStatus.INCLUDED)
        changes["error"] = None if ok else "The transaction was mined but reverted"
        return self.store.update(rec.id, **changes)

    async def wait(self, tx_id: int, *, timeout: float = 120.0,
                   poll_interval: float = 1.0) -> TxRecord:
        """Refresh until the transaction is final (confirmed, reverted, replaced, failed)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            rec = await self.refresh(tx_id)
            if rec.is_final:
                return rec
            if loop.time() >= deadline:
                raise ChainError(f"Transaction #{tx_id} is still {rec.status} after "
                                 f"{timeout:.0f} s; it is saved and will be followed later")
            await asyncio.sleep(poll_interval)

    async def resume_pending(self) -> list[TxRecord]:
        """After a restart: re-check every non-final transaction of this chain by hash and
        rebroadcast the raw bytes of any the node does not know."""
        await self.check_chain()
        out = []
        for rec in self.store.non_final(self.profile.chain_id):
            try:
                out.append(await self.refresh(rec.id))
            except BroadcastRejected as exc:
                log.warning("tx #%d: %s", rec.id, exc)
                out.append(self._get(rec.id))
        return out

    # -- replacement --------------------------------------------------------------------------

    async def _replaceable(self, tx_id: int) -> TxRecord:
        rec = await self.refresh(tx_id, rebroadcast=False)
        if rec.status not in (TxStatus.SIGNED, TxStatus.PENDING):
            raise ChainError(f"Transaction #{tx_id} is {rec.status}; only a transaction that "
                             "is not mined yet can be sped up or cancelled")
        return rec

    async def replacement_fees(self, tx_id: int) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas) a replacement of ``tx_id`` would pay now:
        both at least 12.5 % above the original, and no less than the network asks."""
        rec = await self._replaceable(tx_id)
        max_fee, tip = await self.fees()
        new_tip = max(bump(rec.max_priority_fee), tip)
        return max(bump(rec.max_fee), max_fee, new_tip), new_tip

    async def _replace(self, tx_id: int, account: LocalAccount, *, cancel: bool,
                       fees: tuple[int, int] | None = None) -> TxRecord:
        rec = await self._replaceable(tx_id)
        if account.address != rec.from_addr:
            raise ChainError("Only the account that sent a transaction can replace it")
        if fees is None:
            new_max, new_tip = await self.replacement_fees(tx_id)
        else:  # the fees the user confirmed; still bound by the 12.5 % rule
            new_max, new_tip = fees
            if new_tip < bump(rec.max_priority_fee) or new_max < max(bump(rec.max_fee), new_tip):
                raise ChainError("A replacement must raise both fee fields by at least 12.5 %")
        tx: dict[str, Any] = {
            "from": rec.from_addr, "nonce": rec.nonce, "chainId": rec.chain_id, "type": 2,
            "maxFeePerGas": new_max, "maxPriorityFeePerGas": new_tip,
        }
        if cancel:  # a zero-value self-transfer takes the nonce
            tx.update(to=rec.from_addr, value=0, data=b"", gas=21_000)
            purpose = f"cancel #{rec.id}"
        else:
            tx.update(value=rec.value, data=bytes.fromhex(rec.data.removeprefix("0x")),
                      gas=rec.gas)
            if rec.to_addr:
                tx["to"] = rec.to_addr
            purpose = f"speed-up #{rec.id}" + (f": {rec.purpose}" if rec.purpose else "")
        new = self._sign_and_persist(account, tx, purpose, replaces=rec.id)
        log.info("tx #%d replaces #%d (%s)", new.id, rec.id, "cancel" if cancel else "speed-up")
        return await self.broadcast(new.id)

    async def speed_up(self, tx_id: int, account: LocalAccount,
                       fees: tuple[int, int] | None = None) -> TxRecord:
        return await self._replace(tx_id, account, cancel=False, fees=fees)

    async def cancel(self, tx_id: int, account: LocalAccount,
                     fees: tuple[int, int] | None = None) -> TxRecord:
        return await self._replace(tx_id, account, cancel=True, fees=fees)


def explorer_tx_url(profile: ChainProfile, tx_hash: str) -> str | None:
    return f"{profile.explorer_url.rstrip('/')}/tx/{tx_hash}" if profile.explorer_url else None
