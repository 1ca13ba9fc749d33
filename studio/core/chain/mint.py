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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from studio.core.chain.rpc import ChainError
from studio.core.chain.txstore import TxStatus
from studio.core.library import Library

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from studio.core.chain.txmanager import TransactionManager

log = logging.getLogger(__name__)

TOTAL_ALLOCATION = 1_000_000  # the split factory's scale (like 0xSplits)
MAX_RECIPIENTS = 50
DEFAULT_ROYALTY_CAP = Decimal("10")  # percent; above it needs a deliberate override
ZERO_ADDRESS = "0x" + "00" * 20
# Gas of each step on anvil (bench/mint.py measures them); used for the fee estimate before
# the contracts the later steps call exist.
GAS_NEW_COLLECTION = 260_000
GAS_NEW_SPLIT = 110_000
GAS_MINT = 190_000


class MintState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    SPLIT_READY = "split_ready"
    MINTING = "minting"
    MINTED = "minted"
    FAILED = "failed"


STATE_TEXT = {
    MintState.DRAFT: "Draft",
    MintState.PUBLISHED: "Published (metadata and CIDs ready)",
    MintState.SPLIT_READY: "Collection and split ready",
    MintState.MINTING: "Minting",
    MintState.MINTED: "Minted",
    MintState.FAILED: "Failed",
}


class MintError(ChainError):
    """The mint cannot go on; the message is meant for the user."""


# -- the plan: what the user asked for, validated ---------------------------------------------


@dataclass(frozen=True)
class SplitEntry:
    address: str
    percent: Decimal
    label: str = ""


def parse_percent(text: str | Decimal | float, what: str = "share") -> Decimal:
    try:
        value = Decimal(str(text).strip().rstrip("%"))
    except InvalidOperation as exc:
        raise MintError(f"The {what} {text!r} is not a number") from exc
    if not value.is_finite():
        raise MintError(f"The {what} {text!r} is not a number")
    return value


def check_address(text: str, *, what: str = "address") -> str:
    """A checksummed address. Mixed case must be a valid checksum (a typo guard); all-lower
    or all-upper hex is accepted and checksummed."""
    from eth_utils import is_checksum_address, is_hex_address, to_checksum_address

    text = text.strip()
    if not is_hex_address(text):
        raise MintError(f"The {what} {text!r} is not an Ethereum address (0x and 40 hex digits)")
    body = text[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(text):
        raise MintError(f"The {what} {text} has a wrong checksum (mixed case that does not "
                        "match): check it for a typo")
    if int(text, 16) == 0:
        raise MintError(f"The {what} must not be the zero address")
    return to_checksum_address(text)


def allocations(entries: Sequence[SplitEntry]) -> tuple[list[str], list[int]]:
    """Validated split entries as the factory wants them: recipients ascending (numerically)
    and unique, allocations scaled to 1e6 and summing to exactly 1e6."""
    if not entries:
        raise MintError("The split needs at least one recipient")
    if len(entries) > MAX_RECIPIENTS:
        raise MintError(f"A split holds at most {MAX_RECIPIENTS} recipients")
    seen: dict[str, int] = {}
    scaled: dict[str, int] = {}
    for n, e in enumerate(entries, 1):
        address = check_address(e.address, what=f"address in row {n}")
        if address in seen:
            raise MintError(f"{address} appears twice in the split (rows {seen[address]} "
                            f"and {n}); merge their shares")
        seen[address] = n
        if e.percent <= 0:
            raise MintError(f"The share in row {n} must be more than 0 %")
        units = e.percent * TOTAL_ALLOCATION / 100
        if units != units.to_integral_value():
            raise MintError(f"The share in row {n} ({e.percent} %) has more than 4 decimals")
        scaled[address] = int(units)
    total = sum(scaled.values())
    if total != TOTAL_ALLOCATION:
        raise MintError(f"The shares add up to {Decimal(total) / 10_000} %, not 100 %")
    ordered = sorted(scaled, key=lambda a: int(a, 16))
    return ordered, [scaled[a] for a in ordered]


def royalty_bps(percent: Decimal, *, allow_high: bool = False) -> int:
    if percent < 0:
        raise MintError("The royalty must not be negative")
    if percent > 100:
        raise MintError("The royalty cannot be more than 100 %")
    if percent > DEFAULT_ROYALTY_CAP and not allow_high:
        raise MintError(f"A royalty of {percent} % is above the usual {DEFAULT_ROYALTY_CAP} % "
                        "cap; confirm it deliberately (--allow-high-royalty) to use it")
    bps = percent * 100
    if bps != bps.to_integral_value():
        raise MintError("The royalty takes at most two decimals (basis points)")
    return int(bps)


@dataclass(frozen=True)
class MintPlan:
    asset_id: int
    title: str
    split: tuple[SplitEntry, ...]
    description: str = ""
    collection: str | None = None  # an existing collection you own
    new_collection: tuple[str, str] | None = None  # (name, symbol)
    royalty_percent: Decimal = Decimal("0")
    allow_high_royalty: bool = False

    def validated(self) -> tuple[int, list[str], list[int]]:
        """(royalty bps, recipients, allocations) or MintError."""
        if not self.title.strip():
            raise MintError("A token needs a title")
        if (self.collection is None) == (self.new_collection is None):
            raise MintError("Choose an existing collection or give a new one's name and symbol")
        if self.new_collection is not None:
            name, symbol = (s.strip() for s in self.new_collection)
            if not name or not symbol:
                raise MintError("A new collection needs a name and a symbol")
            if len(symbol) > 11 or " " in symbol:
                raise MintError("A collection symbol is short and has no spaces (e.g. STUDIO)")
        else:
            check_address(self.collection or "", what="collection address")
        bps = royalty_bps(self.royalty_percent, allow_high=self.allow_high_royalty)
        recipients, allocs = allocations(self.split)
        return bps, recipients, allocs


def parse_split_arg(text: str) -> SplitEntry:
    """``ADDR=PERCENT`` or ``ADDR=PERCENT:LABEL`` from the command line."""
    if "=" not in text:
        raise MintError(f"--split {text!r}: write ADDRESS=PERCENT (e.g. 0xAbc…=25)")
    address, rest = text.split("=", 1)
    percent, _, label = rest.partition(":")
    return SplitEntry(address.strip(), parse_percent(percent), label.strip())


# -- the persisted record -------------------------------------------------------------------


@dataclass(frozen=True)
class MintRecord:
    id: int
    asset_id: int
    sha256: str
    profile: str
    chain_id: int
    account: str
    state: MintState
    title: str
    description: str
    royalty_bps: int
    collection: str | None
    new_collection_name: str | None
    new_collection_symbol: str | None
    split: list[dict[str, Any]]  # [{address, allocation, label}], sorted as on-chain
    split_address: str | None
    metadata_json: str | None
    metadata_cid: str | None
    image_cid: str | None
    token_uri: str | None
    token_id: int | None
    collection_tx: int | None
    split_tx: int | None
    mint_tx: int | None
    confirmations: int
    error: str | None
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row) -> MintRecord:
        d = dict(row)
        d["state"] = MintState(d["state"])
        d["split"] = json.loads(d.pop("split_json"))
        d["token_id"] = int(d["token_id"]) if d["token_id"] is not None else None
        return cls(**d)

    @property
    def royalty_receiver(self) -> str | None:
        if len(self.split) == 1:
            return self.split[0]["address"]
        return self.split_address

    def to_json(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "metadata_json"}
        d["state"] = str(self.state)
        d["token_id"] = str(self.token_id) if self.token_id is not None else None
        d["royalty_percent"] = str(Decimal(self.royalty_bps) / 100)
        return d


class MintStore:
    def __init__(self, library: Library) -> None:
        self.library = library

    def insert(self, **fields: Any) -> MintRecord:
        now = time.time()
        fields.setdefault("created_at", now)
        fields.setdefault("updated_at", now)
        cols, marks = ", ".join(fields), ", ".join("?" for _ in fields)
        with self.library.transaction() as conn:
            mint_id = conn.execute(f"INSERT INTO mints({cols}) VALUES ({marks})",
                                   tuple(fields.values())).lastrowid
        return self.get(mint_id)

    def update(self, mint_id: int, **fields: Any) -> MintRecord:
        if "state" in fields:
            fields["state"] = str(fields["state"])
        if fields.get("token_id") is not None:
            fields["token_id"] = str(fields["token_id"])
        fields["updated_at"] = time.time()
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.library.transaction() as conn:
            conn.execute(f"UPDATE mints SET {sets} WHERE id = ?", (*fields.values(), mint_id))
        return self.get(mint_id)

    def get(self, mint_id: int) -> MintRecord:
        rows = self.library.query("SELECT * FROM mints WHERE id = ?", (mint_id,))
        if not rows:
            raise MintError(f"No mint #{mint_id} in the library")
        return MintRecord.from_row(rows[0])

    def for_asset(self, asset_id: int, chain_id: int | None = None) -> list[MintRecord]:
        sql, params = "SELECT * FROM mints WHERE asset_id = ?", [asset_id]
        if chain_id is not None:
            sql += " AND chain_id = ?"
            params.append(chain_id)
        rows = self.library.query(sql + " ORDER BY id DESC", tuple(params))
        return [MintRecord.from_row(r) for r in rows]

    def open_mints(self, chain_id: int | None = None) -> list[MintRecord]:
        """Mints not yet minted or failed (to resume)."""
        sql = "SELECT * FROM mints WHERE state NOT IN ('minted', 'failed')"
        params: tuple = ()
        if chain_id is not None:
            sql += " AND chain_id = ?"
            params = (chain_id,)
        return [MintRecord.from_row(r) for r in self.library.query(sql + " ORDER BY id", params)]

    def list(self, limit: int = 500) -> list[MintRecord]:
        rows = self.library.query("SELECT * FROM mints ORDER BY id DESC LIMIT ?", (limit,))
        return [MintRecord.from_row(r) for r in rows]

    def minted_for_asset(self, asset_id: int) -> MintRecord | None:
        rows = self.library.query("SELECT * FROM mints WHERE asset_id = ? AND state = 'minted'"
                                  " ORDER BY id DESC LIMIT 1", (asset_id,))
        return MintRecord.from_row(rows[0]) if rows else None

    def record_split(self, chain_id: int, address: str, split: list[dict[str, Any]]) -> None:
        with self.library.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO chain_splits(chain_id, address, recipients_json,"
                         " created_at) VALUES (?,?,?,?)",
                         (chain_id, address, json.dumps(split), time.time()))

    def splits(self, chain_id: int) -> list[tuple[str, list[dict[str, Any]]]]:
        rows = self.library.query("SELECT address, recipients_json FROM chain_splits"
                                  " WHERE chain_id = ? ORDER BY created_at", (chain_id,))
        return [(r[0], json.loads(r[1])) for r in rows]


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
        """Metadata JSON and CIDs, all computed locally; the bytes stay in the library."""
        from studio.core.generation.output import generation_record
        from studio.core.publish.metadata import TokenMetadata
        from studio.core.publish.unixfs import file_cid

        asset = self.library.get(rec.asset_id)
        if asset is None:
            raise MintError(f"Asset #{rec.asset_id} is no longer in the library")
        path = self.library.path_of(asset)
        if not path.is_file():
            raise MintError(f"The file of asset #{asset.id} is missing from the library store")
        image_cid = file_cid(path)
        model, seed = "", None
        try:
            gen = generation_record(self.library, asset.id)
        except Exception:  # no generation component or no record: an imported file
            gen = None
        if gen:
            model = str(gen.get("request", {}).get("model_name", "") if isinstance(
                gen.get("request"), dict) else getattr(gen.get("request"), "model_name", ""))
            seed = gen.get("seed")
        label = asset.manifest_label
        if label is None and asset.media_type.startswith("image/"):
            from studio.core.provenance.reader import read_report

            label = read_report(path).manifest_label  # generated files are signed too
        meta = TokenMetadata(name=rec.title, description=rec.description,
                             image=f"ipfs://{image_cid}", sha256=asset.sha256, model=model,
                             seed=seed, manifest_label=label,
                             media_type=asset.media_type)
        return self._set(rec, f"published: metadata {meta.cid()}", state=MintState.PUBLISHED,
                         metadata_json=meta.to_bytes().decode("utf-8"),
                         metadata_cid=meta.cid(), image_cid=image_cid,
                         token_uri=meta.token_uri(), error=None)

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


# -- where to connect -----------------------------------------------------------------------

_SANDBOXES: dict[str, Any] = {}


def shared_sandbox(data_dir) -> Any:
    """One Sandbox per data dir for this process (the window and its dialogs share it)."""
    from studio.core.chain.sandbox import Sandbox

    key = str(data_dir)
    if key not in _SANDBOXES:
        _SANDBOXES[key] = Sandbox(data_dir)
    return _SANDBOXES[key]


def stop_shared_sandboxes() -> None:
    for box in list(_SANDBOXES.values()):
        box.stop()


def endpoint_url(paths, settings, profile) -> str:
    """The RPC URL for ``profile``; starts the sandbox node when it is the Sandbox (blocking:
    call it off the GUI thread)."""
    from studio.core.chain.profiles import SANDBOX_ID, ChainProfiles

    if profile.id == SANDBOX_ID:
        return shared_sandbox(paths.data_dir).start()
    return ChainProfiles(settings).rpc_url(profile)


# -- finding the token that holds a file (verify --chain) ---------------------------------


@dataclass(frozen=True)
class TokenInfo:
    collection: str
    collection_name: str
    token_id: int
    owner: str
    token_uri: str
    royalty_receiver: str
    royalty_percent: Decimal
    split: list[tuple[str, Decimal]]  # (recipient, percent); empty when not a split

    def to_json(self) -> dict[str, Any]:
        return {"collection": self.collection, "collection_name": self.collection_name,
                "token_id": str(self.token_id), "owner": self.owner,
                "token_uri": self.token_uri, "royalty_receiver": self.royalty_receiver,
                "royalty_percent": str(self.royalty_percent),
                "split": [{"recipient": a, "percent": str(p)} for a, p in self.split]}


async def find_token(tm: TransactionManager, library: Library, sha256: str) -> TokenInfo | None:
    """The token holding the file with this sha256, over every collection the factory created
    (found through its CollectionCreated events), or None."""
    from studio.core.chain.artifacts import load_artifact
    from studio.core.chain.deploy import known_factories

    factories = await known_factories(tm, library)
    if factories is None:
        return None
    w3 = tm.w3
    factory = w3.eth.contract(address=factories.collection_factory,
                              abi=load_artifact("CollectionFactory")["abi"])
    logs = await tm._rpc(factory.events.CollectionCreated().get_logs(from_block=0))
    content = bytes.fromhex(sha256)
    abi = load_artifact("StudioCollection")["abi"]
    for entry in logs:
        c = w3.eth.contract(address=entry["args"]["collection"], abi=abi)
        token = int(await tm._rpc(c.functions.tokenIdOf(content).call()))
        if token == 0:
            continue
        receiver, amount = await tm._rpc(c.functions.royaltyInfo(token, 10**6).call())
        split: list[tuple[str, Decimal]] = []
        if receiver != ZERO_ADDRESS and await _is_splitter(tm, receiver):
            s = w3.eth.contract(address=receiver, abi=load_artifact("RoyaltySplitter")["abi"])
            accounts, allocs = await tm._rpc(s.functions.recipients().call())
            split = [(a, Decimal(n) / 10_000) for a, n in zip(accounts, allocs, strict=True)]
        return TokenInfo(
            collection=c.address, collection_name=await tm._rpc(c.functions.name().call()),
            token_id=token, owner=await tm._rpc(c.functions.ownerOf(token).call()),
            token_uri=await tm._rpc(c.functions.tokenURI(token).call()),
            royalty_receiver=receiver, royalty_percent=Decimal(amount) / 10_000, split=split)
    return None


async def _is_splitter(tm: TransactionManager, address: str) -> bool:
    from studio.core.chain.artifacts import load_artifact

    if not len(bytes(await tm._rpc(tm.w3.eth.get_code(address)))):
        return False
    s = tm.w3.eth.contract(address=address, abi=load_artifact("RoyaltySplitter")["abi"])
    try:
        await s.functions.recipients().call()
    except Exception:  # not a splitter (an EOA-like contract or another kind)
        return False
    return True
