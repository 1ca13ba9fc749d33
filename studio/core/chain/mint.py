"""The mint workflow: a state machine persisted in the library, resumable at every state.

    draft -> published -> split_ready -> minting -> minted
                                   (any) -> failed (with a reason)

Each state is written before its side effect, and every transaction goes through the
:class:`TransactionManager` (chain-id check, dry run, raw tx persisted before broadcast), so a
restart resumes from the record: a transaction in flight is followed by its hash, and before
any (re-)send of a mint the content hash is looked up on-chain (``tokenIdOf``) so the same file
is never minted twice. Endpoint trouble leaves the state as it is (retry later); only a
refusal by the chain (a revert) ends in ``failed``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from studio.core.chain.mintstore import MintRecord, MintState, MintStore
from studio.core.chain.plan import ZERO_ADDRESS, MintError, MintPlan, check_address
from studio.core.chain.rpc import ChainError
from studio.core.chain.txstore import TxStatus
from studio.core.library import Library

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from studio.core.chain.txmanager import TransactionManager

log = logging.getLogger(__name__)

# Gas of each step on anvil (bench/mint.py measures them); used for the fee estimate before
# the contracts the later steps call exist.
GAS_NEW_COLLECTION = 260_000
GAS_NEW_SPLIT = 110_000
GAS_MINT = 190_000


# -- the workflow ---------------------------------------------------------------------------

Progress = Callable[[MintRecord, str], None]


def collection_salt(name: str, symbol: str) -> bytes:
    """The same (name, symbol) for the same creator resolves to one collection address."""
    from eth_utils import keccak

    return keccak(text=f"{name.strip()}\x00{symbol.strip()}")


@dataclass
class FeeEstimate:
    gas: int
    max_fee_per_gas: int
    steps: list[str] = field(default_factory=list)

    @property
    def max_cost_wei(self) -> int:
        return self.gas * self.max_fee_per_gas


class MintWorkflow:
    """Runs mints for one account on one chain profile, through ``tm``."""

    def __init__(self, library: Library, tm: TransactionManager, account: LocalAccount, *,
                 progress: Progress | None = None, poll_interval: float = 0.5,
                 wait_timeout: float = 180.0) -> None:
        self.library = library
        self.tm = tm
        self.account = account
        self.store = MintStore(library)
        self.progress = progress or (lambda rec, msg: None)
        self.poll_interval = poll_interval
        self.wait_timeout = wait_timeout
        self._factories = None

    # -- contracts ---------------------------------------------------------------------------

    def _contract(self, name: str, address: str):
        from studio.core.chain.artifacts import load_artifact

        return self.tm.w3.eth.contract(address=address, abi=load_artifact(name)["abi"])

    def _abi(self, name: str) -> list[dict]:
        from studio.core.chain.artifacts import load_artifact

        return load_artifact(name)["abi"]

    async def factories(self):
        from studio.core.chain.deploy import ensure_factories

        if self._factories is None:
            self._factories = await ensure_factories(self.tm, self.account, self.library)
        return self._factories

    async def _has_code(self, address: str) -> bool:
        return len(bytes(await self.tm._rpc(self.tm.w3.eth.get_code(address)))) > 0

    async def _call(self, fn) -> Any:
        return await self.tm._rpc(fn.call())

    # -- creating a mint -----------------------------------------------------------------------

    def create(self, plan: MintPlan) -> MintRecord:
        """Validate ``plan`` and write the draft. An unfinished mint of the same asset on this
        chain is returned instead (resume it); an asset already minted here is refused."""
        bps, recipients, allocs = plan.validated()
        asset = self.library.get(plan.asset_id)
        if asset is None:
            raise MintError(f"No asset #{plan.asset_id} in the library")
        chain_id = self.tm.profile.chain_id
        for existing in self.store.for_asset(asset.id, chain_id):
            if existing.state == MintState.MINTED:
                raise MintError(f"This file is already minted on {self.tm.profile.name}: "
                                f"token {existing.token_id} in {existing.collection}")
            if existing.state != MintState.FAILED:
                log.info("mint #%d of asset %d is unfinished; resuming it", existing.id,
                         asset.id)
                return existing
        labels = {check_address(e.address): e.label for e in plan.split}
        split = [{"address": a, "allocation": n, "label": labels.get(a, "")}
                 for a, n in zip(recipients, allocs, strict=True)]
        name, symbol = plan.new_collection or (None, None)
        return self.store.insert(
            asset_id=asset.id, sha256=asset.sha256, profile=self.tm.profile.id,
            chain_id=chain_id, account=self.account.address, state=str(MintState.DRAFT),
            title=plan.title.strip(), description=plan.description, royalty_bps=bps,
            collection=check_address(plan.collection) if plan.collection else None,
            new_collection_name=name and name.strip(),
            new_collection_symbol=symbol and symbol.strip(), split_json=json.dumps(split))

    async def estimate(self, plan: MintPlan) -> FeeEstimate:
        """An upper bound on the fees: gas of each step that will run, at today's max fee."""
        _, recipients, allocs = plan.validated()
        await self.tm.check_chain()
        max_fee, _tip = await self.tm.fees()
        factories = await self._known_factories()
        gas, steps = 0, []
        if factories is None:
            gas += 2_500_000
            steps.append("deploy the factories (first use of this chain)")
        if plan.new_collection is not None:
            gas += GAS_NEW_COLLECTION
            steps.append("create the collection")
        if len(recipients) > 1:
            exists = False
            if factories is not None:
                splits = self._contract("SplitFactory", factories.split_factory)
                exists = await self._has_code(
                    await self._call(splits.functions.predict(recipients, allocs)))
            if not exists:
                gas += GAS_NEW_SPLIT + 25_000 * len(recipients)
                steps.append("create the royalty split")
        gas += GAS_MINT
        steps.append("mint the token")
        return FeeEstimate(gas, max_fee, steps)

    async def _known_factories(self):
        from studio.core.chain.deploy import known_factories

        return await known_factories(self.tm, self.library)

    # -- running -------------------------------------------------------------------------------

    def _set(self, rec: MintRecord, message: str = "", **fields: Any) -> MintRecord:
        rec = self.store.update(rec.id, **fields)
        if message:
            log.info("mint #%d: %s", rec.id, message)
            self.progress(rec, message)
        return rec

    async def run(self, mint_id: int) -> MintRecord:
        """Advance the mint until it is minted (or raise). Safe to call again after any
        failure or crash: it resumes from the persisted state."""
        from studio.core.chain.rpc import EndpointUnavailable
        from studio.core.chain.txmanager import BroadcastRejected, RevertError

        rec = self.store.get(mint_id)
        if rec.chain_id != self.tm.profile.chain_id:
            raise MintError(f"Mint #{rec.id} is for chain {rec.chain_id}, not "
                            f"{self.tm.profile.name} ({self.tm.profile.chain_id})")
        if rec.account != self.account.address:
            raise MintError(f"Mint #{rec.id} belongs to {rec.account}; switch to that account")
        try:
            while rec.state not in (MintState.MINTED, MintState.FAILED):
                rec = await self._step(rec)
        except (RevertError, BroadcastRejected, MintError) as exc:
            rec = self._set(rec, f"failed: {exc}", state=MintState.FAILED, error=str(exc))
            raise MintError(str(exc)) from exc
        except EndpointUnavailable as exc:
            self._set(rec, "paused: the endpoint is unreachable", error=str(exc))
            raise
        except ChainError as exc:  # chain-id mismatch, timeouts: retry later
            self._set(rec, f"paused: {exc}", error=str(exc))
            raise
        if rec.state == MintState.FAILED:
            raise MintError(rec.error or "The mint failed")
        return rec

    async def _step(self, rec: MintRecord) -> MintRecord:
        if rec.state == MintState.DRAFT:
            return self._publish(rec)
        if rec.state == MintState.PUBLISHED:
            await self.tm.check_chain()
            # The split first: a bad one is refused before anything is sent.
            split = await self._ensure_split(rec)
            rec = self._set(rec, "split ready", split_address=split)
            collection = await self._ensure_collection(rec)
            return self._set(rec, f"collection ready at {collection}",
                             state=MintState.SPLIT_READY, collection=collection, error=None)
        if rec.state == MintState.SPLIT_READY:
            return self._set(rec, "minting", state=MintState.MINTING)
        if rec.state == MintState.MINTING:
            return await self._mint(rec)
        raise AssertionError(rec.state)

    def _publish(self, rec: MintRecord) -> MintRecord:
        from studio.core.chain.token_metadata import publish_fields

        fields = publish_fields(self.library, rec)
        return self._set(rec, f"published: metadata {fields['metadata_cid']}",
                         state=MintState.PUBLISHED, error=None, **fields)

    async def _send_step(self, rec: MintRecord, tx_field: str, *, to: str, data: bytes,
                         abi: list[dict], purpose: str) -> MintRecord:
        """Send one step's transaction, or follow the one sent before a crash. Returns the
        updated mint record once that transaction is confirmed; raises MintError on a
        revert. The caller checks the chain before calling (idempotency)."""
        tx_id = getattr(rec, tx_field)
        if tx_id is not None:
            txrec = await self.tm.wait(tx_id, timeout=self.wait_timeout,
                                       poll_interval=self.poll_interval)
            if txrec.status == TxStatus.CONFIRMED:
                return rec
            if txrec.status == TxStatus.REVERTED:
                raise MintError(f"The {purpose} transaction {txrec.hash} reverted on chain")
            # Replaced or rejected for good: the caller has re-checked the chain; send anew.
            log.warning("mint #%d: %s tx #%d is %s; sending a new one", rec.id, purpose,
                        tx_id, txrec.status)
        txrec = await self.tm.prepare(self.account, to=to, data=data, abi=abi,
                                      purpose=f"{purpose} (mint #{rec.id})")
        rec = self._set(rec, f"{purpose}: sending {txrec.hash}", **{tx_field: txrec.id})
        await self.tm.broadcast(txrec.id)
        self.progress(rec, f"{purpose}: waiting for {self.tm.profile.confirmations} "
                           "confirmation(s)")
        txrec = await self.tm.wait(txrec.id, timeout=self.wait_timeout,
                                   poll_interval=self.poll_interval)
        if txrec.status != TxStatus.CONFIRMED:
            raise MintError(f"The {purpose} transaction {txrec.hash} ended {txrec.status}: "
                            f"{txrec.error or 'no reason given'}")
        return rec

    async def _ensure_collection(self, rec: MintRecord) -> str:
        if rec.new_collection_name is None:
            address = rec.collection or ""
            if not await self._has_code(address):
                raise MintError(f"No collection contract at {address} on "
                                f"{self.tm.profile.name}")
            owner = await self._call(self._contract("StudioCollection", address)
                                     .functions.owner())
            if owner != self.account.address:
                raise MintError(f"The collection {address} belongs to {owner}, not to "
                                f"{self.account.address}: only its owner can mint into it")
            return address
        factories = await self.factories()
        factory = self._contract("CollectionFactory", factories.collection_factory)
        salt = collection_salt(rec.new_collection_name, rec.new_collection_symbol or "")
        address = await self._call(factory.functions.predictCollection(self.account.address,
                                                                         salt))
        if rec.collection != address:
            rec = self._set(rec, collection=address)  # known before anything is sent
        if await self._has_code(address):
            return address  # created before (this mint after a crash, or an earlier one)
        call = factory.functions.createCollection(
            salt, rec.new_collection_name, rec.new_collection_symbol or "", "", ZERO_ADDRESS, 0)
        await self._send_step(rec, "collection_tx", to=factories.collection_factory,
                              data=_calldata(call), abi=self._abi("CollectionFactory"),
                              purpose="create collection")
        if not await self._has_code(address):
            raise MintError(f"The collection is not at its predicted address {address}")
        return address

    async def _ensure_split(self, rec: MintRecord) -> str | None:
        if len(rec.split) == 1:
            return None  # one recipient: royalties go straight to them
        recipients = [e["address"] for e in rec.split]
        allocs = [int(e["allocation"]) for e in rec.split]
        factories = await self.factories()
        factory = self._contract("SplitFactory", factories.split_factory)
        call = factory.functions.create(recipients, allocs)
        # predict() validates like create(): a bad split reverts here, before any send.
        from studio.core.chain.txmanager import RevertError

        try:
            address = await self._call(factory.functions.predict(recipients, allocs))
        except Exception as exc:
            from studio.core.chain.revert import decode_revert, revert_data

            data = revert_data(exc)
            if data is None:
                raise
            raise RevertError(decode_revert(data, self._abi("SplitFactory")), data) from exc
        if not await self._has_code(address):
            await self._send_step(rec, "split_tx", to=factories.split_factory,
                                  data=_calldata(call), abi=self._abi("SplitFactory"),
                                  purpose="create split")
            if not await self._has_code(address):
                raise MintError(f"The split is not at its predicted address {address}")
        self.store.record_split(rec.chain_id, address, rec.split)
        return address

    async def token_of(self, collection: str, sha256: str) -> int:
        c = self._contract("StudioCollection", collection)
        return int(await self._call(c.functions.tokenIdOf(bytes.fromhex(sha256))))

    async def _mint(self, rec: MintRecord) -> MintRecord:
        assert rec.collection is not None and rec.token_uri is not None
        # The content hash on-chain first: never mint the same file twice.
        token = await self.token_of(rec.collection, rec.sha256)
        if token == 0:
            receiver = rec.royalty_receiver or ZERO_ADDRESS
            bps = rec.royalty_bps if rec.royalty_receiver else 0
            c = self._contract("StudioCollection", rec.collection)
            call = c.functions.mint(self.account.address, rec.token_uri,
                                    bytes.fromhex(rec.sha256), receiver, bps)
            if rec.mint_tx is not None:
                txrec = await self.tm.wait(rec.mint_tx, timeout=self.wait_timeout,
                                           poll_interval=self.poll_interval)
                token = await self.token_of(rec.collection, rec.sha256)
                if token == 0 and txrec.status == TxStatus.CONFIRMED:
                    raise MintError("The mint transaction confirmed but the token is missing")
                if token == 0 and txrec.status == TxStatus.REVERTED:
                    raise MintError(f"The mint transaction {txrec.hash} reverted on chain")
                if token == 0:
                    rec = self._set(rec, "mint transaction was dropped; sending a new one",
                                    mint_tx=None)
            if token == 0:
                await self._send_step(rec, "mint_tx", to=rec.collection, data=_calldata(call),
                                      abi=self._abi("StudioCollection"), purpose="mint")
                rec = self.store.get(rec.id)
                token = await self.token_of(rec.collection, rec.sha256)
                if token == 0:
                    raise MintError("The mint confirmed but the token is not on chain")
        elif rec.mint_tx is not None:
            # The token is there (sent before a crash or an outage): bring the tx record up
            # to date by its hash; nothing is sent again.
            await self.tm.wait(rec.mint_tx, timeout=self.wait_timeout,
                               poll_interval=self.poll_interval)
        c = self._contract("StudioCollection", rec.collection)
        owner = await self._call(c.functions.ownerOf(token))
        if owner != self.account.address and rec.mint_tx is None:
            raise MintError(f"This file is already minted in {rec.collection} (token "
                            f"{token}, owned by {owner})")
        confirmations = 0
        if rec.mint_tx is not None:
            txrec = self.tm.store.get(rec.mint_tx)
            confirmations = txrec.confirmations if txrec else 0
        rec = self._set(rec, f"minted: token {token} in {rec.collection}",
                        state=MintState.MINTED, token_id=token, confirmations=confirmations,
                        error=None)
        self.library.set_minted(rec.asset_id, time.time())
        return rec

    async def recheck(self, mint_id: int) -> MintRecord:
        """Notice a reorg after the fact: if the token (or the contracts it needs) vanished
        from the chain, step back and re-send (the persisted raw transactions first)."""
        rec = self.store.get(mint_id)
        if rec.state != MintState.MINTED:
            return rec
        await self.tm.check_chain()
        for tx_field in ("collection_tx", "split_tx", "mint_tx"):
            tx_id = getattr(rec, tx_field)
            txrec = self.tm.store.get(tx_id) if tx_id is not None else None
            if txrec is None or txrec.status != TxStatus.CONFIRMED:
                continue
            receipt = await self._receipt(txrec.hash)
            if receipt is None or _hex(receipt["blockHash"]) != txrec.block_hash:
                # Let the manager's reorg handling see it again (it re-broadcasts raw bytes).
                self.tm.store.update(tx_id, status=str(TxStatus.INCLUDED))
        back = None
        if not await self._has_code(rec.collection or ZERO_ADDRESS) or (
                rec.split_address and not await self._has_code(rec.split_address)):
            back = MintState.PUBLISHED
        elif await self.token_of(rec.collection or "", rec.sha256) == 0:
            back = MintState.MINTING
        if back is None:
            if rec.mint_tx is not None:
                txrec = await self.tm.refresh(rec.mint_tx)
                return self._set(rec, confirmations=txrec.confirmations)
            return rec
        self.library.set_minted(rec.asset_id, None)
        rec = self._set(rec, "the chain reorganised: the token is gone; minting again",
                        state=back, token_id=None, confirmations=0,
                        error="A chain reorganisation removed the token; re-sent")
        return await self.run(rec.id)

    async def _receipt(self, tx_hash: str):
        from web3.exceptions import TransactionNotFound

        try:
            return await self.tm._rpc(self.tm.w3.eth.get_transaction_receipt(tx_hash))
        except TransactionNotFound:
            return None

    async def resume_all(self) -> list[MintRecord]:
        """Resume every unfinished mint of this account on this chain (after a restart)."""
        out = []
        for rec in self.store.open_mints(self.tm.profile.chain_id):
            if rec.account == self.account.address:
                out.append(await self.run(rec.id))
        return out


def _calldata(call) -> bytes:
    return bytes.fromhex(call._encode_transaction_data().removeprefix("0x"))


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return str(value).lower()

