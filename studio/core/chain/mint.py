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
from typing import TYPE_CHECKING, Any

from studio.core.chain.feeplan import FeePlan
from studio.core.chain.mintstore import MintRecord, MintState, MintStore
from studio.core.chain.plan import ZERO_ADDRESS, MintError, MintPlan, check_address
from studio.core.chain.rpc import ChainError
from studio.core.chain.txstore import TxStatus
from studio.core.crashpoints import crash_point
from studio.core.library import Library

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from studio.core.chain.fees import FeeGuard
    from studio.core.chain.txmanager import TransactionManager

log = logging.getLogger(__name__)

FeeEstimate = FeePlan  # the name the mint dialog knows


# -- the workflow ---------------------------------------------------------------------------

Progress = Callable[[MintRecord, str], None]


def collection_salt(name: str, symbol: str) -> bytes:
    """The same (name, symbol) for the same creator resolves to one collection address."""
    from eth_utils import keccak

    return keccak(text=f"{name.strip()}\x00{symbol.strip()}")


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
            # Once per session: their code was seen (or they were deployed) by this manager.
            key = f"factories:{self.account.address}"
            if key not in self.tm.session:
                self.tm.session[key] = await ensure_factories(self.tm, self.account,
                                                              self.library)
            self._factories = self.tm.session[key]
        return self._factories

    async def _has_code(self, address: str) -> bool:
        return len(bytes(await self.tm._rpc(self.tm.w3.eth.get_code(address)))) > 0

    async def _call(self, fn) -> Any:
        return await self.tm._rpc(fn.call())

    # -- creating a mint -----------------------------------------------------------------------

    def create(self, plan: MintPlan) -> MintRecord:
        """Validate ``plan`` and write the draft. An unfinished mint of the same asset on this
        chain is returned instead (resume it); an asset already minted here is refused. The
        asset's own watermark (its manifest's soft binding) is recorded unless the plan names
        one; a plan naming another is refused."""
        from studio.core.chain.durable import asset_soft_binding, with_soft_binding

        bps, recipients, allocs = plan.validated()
        asset = self.library.get(plan.asset_id)
        if asset is None:
            raise MintError(f"No asset #{plan.asset_id} in the library")
        plan = with_soft_binding(plan, asset_soft_binding(self.library, asset))
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
            new_collection_symbol=symbol and symbol.strip(), split_json=json.dumps(split),
            soft_binding_id=plan.soft_binding_id.hex() if plan.soft_binding_id else None)

    async def begin(self, plan: MintPlan) -> MintRecord:
        """:meth:`create`, after asking the chain about this asset's earlier mints: a
        "minted" record whose token is gone is reported and stepped back, so it is minted
        again instead of being refused as already minted."""
        from studio.core.chain.reconcile import reconcile

        await reconcile(self, asset_id=plan.asset_id)
        return self.create(plan)

    async def estimate(self, plan: MintPlan) -> FeePlan:
        """Every transaction the mint of ``plan`` will send and the most it can cost (at
        today's max fee, capped by the chain's fee history and the profile)."""
        from studio.core.chain.feeplan import mint_fee_plan

        return await mint_fee_plan(self, plan)

    async def estimate_resume(self, records: list[MintRecord]) -> FeePlan:
        from studio.core.chain.feeplan import resume_fee_plan

        return await resume_fee_plan(self, records)

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

    async def run(self, mint_id: int, guard: FeeGuard | None = None) -> MintRecord:
        """Advance the mint until it is minted (or raise). Safe to call again after any
        failure or crash: it resumes from the persisted state. With ``guard`` (the fees the
        user confirmed) nothing is signed above them."""
        previous = self.tm.fee_guard
        if guard is not None:
            self.tm.fee_guard = guard
        try:
            async with self.tm.held_fees():  # one fee read per mint, not per transaction
                return await self._run(mint_id)
        finally:
            self.tm.fee_guard = previous

    async def _run(self, mint_id: int) -> MintRecord:
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
        # reuse: a transaction for this very step signed just before a crash (saved, not yet
        # linked here) is sent, never a second one at the next nonce.
        txrec = await self.tm.prepare(self.account, to=to, data=data, abi=abi,
                                      purpose=f"{purpose} (mint #{rec.id})", reuse=True)
        crash_point(f"signed:{purpose}")
        rec = self._set(rec, f"{purpose}: sending {txrec.hash}", **{tx_field: txrec.id})
        await self.tm.broadcast(txrec.id)
        crash_point(f"broadcast:{purpose}")
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
        call = factory.functions.createCollection(
            salt, rec.new_collection_name, rec.new_collection_symbol or "", "", ZERO_ADDRESS, 0)
        rec = await self._adopt(rec, "collection_tx", factories.collection_factory,
                                _calldata(call))
        if await self._has_code(address):
            # Created before (this mint after a crash, or an earlier one).
            await self._close_stale(rec.collection_tx, "collection")
            return address
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
        rec = await self._adopt(rec, "split_tx", factories.split_factory, _calldata(call))
        if not await self._has_code(address):
            await self._send_step(rec, "split_tx", to=factories.split_factory,
                                  data=_calldata(call), abi=self._abi("SplitFactory"),
                                  purpose="create split")
            if not await self._has_code(address):
                raise MintError(f"The split is not at its predicted address {address}")
        else:
            await self._close_stale(rec.split_tx, "split")
        self.store.record_split(rec.chain_id, address, rec.split)
        return address

    async def _adopt(self, rec: MintRecord, tx_field: str, to: str, data: bytes) -> MintRecord:
        """Link this step's transaction when one was signed (and maybe sent) just before a
        crash, before the mint row knew of it: it is followed, never sent a second time."""
        if getattr(rec, tx_field) is not None:
            return rec
        same = await self.tm.find_same_open(self.account.address, to, 0, data)
        if same is None:
            return rec
        return self._set(rec, f"found transaction {same.hash} signed before a restart",
                         **{tx_field: same.id})

    async def _close_stale(self, tx_id: int | None, what: str) -> None:
        """The contract exists: bring this step's transaction record up to date by hash, so
        a row left "pending" by a crash does not stay pending for ever. One that no node
        ever got is no longer needed and is closed without being sent."""
        if tx_id is None:
            return
        txrec = await self.tm.refresh(tx_id, rebroadcast=False)
        if txrec.status == TxStatus.SIGNED:
            self.tm.store.update(tx_id, status=str(TxStatus.FAILED),
                                 error=f"Not sent: the {what} it would create already exists")

    async def token_of(self, collection: str, sha256: str) -> int:
        c = self._contract("StudioCollection", collection)
        return int(await self._call(c.functions.tokenIdOf(bytes.fromhex(sha256))))

    async def _mint(self, rec: MintRecord) -> MintRecord:
        assert rec.collection is not None and rec.token_uri is not None
        receiver = rec.royalty_receiver or ZERO_ADDRESS
        bps = rec.royalty_bps if rec.royalty_receiver else 0
        c = self._contract("StudioCollection", rec.collection)
        call = c.functions.mint(self.account.address, rec.token_uri, bytes.fromhex(rec.sha256),
                                rec.soft_binding, receiver, bps)
        rec = await self._adopt(rec, "mint_tx", rec.collection, _calldata(call))
        # The content hash on-chain first: never mint the same file twice.
        token = await self.token_of(rec.collection, rec.sha256)
        if token == 0:
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
        if rec.mint_tx is None:  # a token this mint did not send: whose is it?
            c = self._contract("StudioCollection", rec.collection)
            owner = await self._call(c.functions.ownerOf(token))
            if owner != self.account.address:
                raise MintError(f"This file is already minted in {rec.collection} (token "
                                f"{token}, owned by {owner})")
        confirmations = 0
        if rec.mint_tx is not None:
            txrec = self.tm.store.get(rec.mint_tx)
            confirmations = txrec.confirmations if txrec else 0
        # The mint row and the library's minted flag in one transaction: a crash can leave
        # neither or both, never a minted token the library does not show.
        rec = self.store.update(rec.id, state=MintState.MINTED, token_id=token,
                                confirmations=confirmations, error=None,
                                minted_at=time.time())
        crash_point("minted")
        message = f"minted: token {token} in {rec.collection}"
        log.info("mint #%d: %s", rec.id, message)
        self.progress(rec, message)
        return rec

    async def recheck(self, mint_id: int) -> MintRecord:
        """Notice a reorg after the fact: if the token (or the contracts it needs) vanished
        from the chain, step back and mint again (the persisted raw transactions first)."""
        from studio.core.chain.reconcile import reconcile

        lost = await reconcile(self, mint_ids=[mint_id])
        if lost and lost[0].account == self.account.address:
            return await self.run(mint_id)
        return self.store.get(mint_id)

    def open_records(self) -> list[MintRecord]:
        """This account's unfinished mints on this chain."""
        return [r for r in self.store.open_mints(self.tm.profile.chain_id)
                if r.account == self.account.address]

    async def resume_all(self, guard: FeeGuard | None = None) -> list[MintRecord]:
        """Resume every unfinished mint of this account on this chain (after a restart)."""
        return [await self.run(rec.id, guard) for rec in self.open_records()]


def _calldata(call) -> bytes:
    return bytes.fromhex(call._encode_transaction_data().removeprefix("0x"))

