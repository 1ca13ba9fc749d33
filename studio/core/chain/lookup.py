"""Finding the tokens that hold a file (``studio verify --chain``) or a watermark.

Every mint emits ``ContentMinted(contentHash, tokenId, softBindingId)`` with all three
indexed, so a file's sha256 (or a watermark's soft-binding id) leads to its tokens through
``eth_getLogs`` on that topic, asked in bounded block ranges (public endpoints refuse wide
ones) from the factory's deployment on. Anyone can mint the same bytes into a collection of
their own, so the answer prefers the collection owned by the wallet bound in the file's
credentials, and lists the others as copies with the block they first appeared in. Logs are
only leads: a collection counts when its code is a clone of our factory's implementation and
it holds the token now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from studio.core.chain.plan import ZERO_ADDRESS
from studio.core.library import Library

if TYPE_CHECKING:
    from studio.core.chain.txmanager import TransactionManager

LOG_RANGE = 5_000  # blocks per eth_getLogs request (common public-endpoint limits: 2k-10k)
_EIP1167 = ("363d3d373d3d3d363d73", "5af43d82803e903d91602b57fd5bf3")


@dataclass(frozen=True)
class TokenCopy:
    """Another collection holding the same file."""

    collection: str
    collection_owner: str
    token_id: int
    first_block: int

    def to_json(self) -> dict[str, Any]:
        return {"collection": self.collection, "collection_owner": self.collection_owner,
                "token_id": str(self.token_id), "first_block": self.first_block}


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
    collection_owner: str = ""
    first_block: int = 0
    # True when the collection belongs to the wallet bound in the file's credentials.
    by_creator: bool = False
    copies: list[TokenCopy] = field(default_factory=list)
    content_hash: str = ""  # hex sha256 the mint recorded (the minted file's)

    def to_json(self) -> dict[str, Any]:
        return {"collection": self.collection, "collection_name": self.collection_name,
                "content_hash": self.content_hash or None,
                "token_id": str(self.token_id), "owner": self.owner,
                "token_uri": self.token_uri, "royalty_receiver": self.royalty_receiver,
                "royalty_percent": str(self.royalty_percent),
                "split": [{"recipient": a, "percent": str(p)} for a, p in self.split],
                "collection_owner": self.collection_owner, "first_block": self.first_block,
                "by_creator": self.by_creator, "copies": [c.to_json() for c in self.copies]}


@dataclass(frozen=True)
class MintedRef:
    """One ContentMinted event that checks out: the collection is ours and holds the token."""

    collection: str
    token_id: int
    content_hash: bytes
    soft_binding_id: bytes
    first_block: int

    def to_json(self) -> dict[str, Any]:
        return {"collection": self.collection, "token_id": str(self.token_id),
                "content_hash": self.content_hash.hex(),
                "soft_binding_id": self.soft_binding_id.hex(), "first_block": self.first_block}


def _abi(name: str) -> list[dict]:
    from studio.core.chain.artifacts import load_artifact

    return load_artifact(name)["abi"]


def content_minted_topic() -> str:
    from eth_utils import keccak

    return "0x" + keccak(text="ContentMinted(bytes32,uint256,bytes32)").hex()


async def _start_block(tm: TransactionManager, library: Library) -> int:
    """The block the collection factory was deployed in when this library deployed it (its
    receipt says), else 0."""
    from studio.core.chain.deploy import AddressBook

    row = AddressBook(library).get(tm.profile.chain_id, "CollectionFactory")
    if row and row[2] is not None:
        rec = tm.store.get(row[2])
        if rec is not None and rec.block_number is not None:
            return int(rec.block_number)
    return 0


async def _logs(tm: TransactionManager, topics: list[str | None], start: int,
                chunk: int) -> list[Any]:
    latest = int(await tm._rpc(tm.w3.eth.block_number))
    found: list[Any] = []
    for low in range(start, latest + 1, chunk):
        high = min(low + chunk - 1, latest)
        found += await tm._rpc(tm.w3.eth.get_logs(
            {"fromBlock": low, "toBlock": high, "topics": topics}))
    return found


async def _ours(tm: TransactionManager, address: str, implementation: str) -> bool:
    """Whether ``address`` is a clone of our collection implementation (not a look-alike
    contract emitting the same event)."""
    code = bytes(await tm._rpc(tm.w3.eth.get_code(address))).hex()
    return code == _EIP1167[0] + implementation[2:].lower() + _EIP1167[1]


def _word(value: Any) -> bytes:
    return bytes(value) if not isinstance(value, str) else bytes.fromhex(value[2:])


async def minted_refs(tm: TransactionManager, library: Library, *,
                      content_hash: bytes | None = None, soft_binding_id: bytes | None = None,
                      chunk: int = LOG_RANGE) -> list[MintedRef]:
    """Tokens minted through our factory with this content hash and/or soft-binding id,
    earliest first (one per collection)."""
    from web3 import AsyncWeb3

    from studio.core.chain.deploy import known_factories

    factories = await known_factories(tm, library)
    if factories is None:
        return []
    factory = tm.w3.eth.contract(address=factories.collection_factory,
                                 abi=_abi("CollectionFactory"))
    implementation = await tm._rpc(factory.functions.implementation().call())
    topics: list[str | None] = [
        content_minted_topic(),
        "0x" + content_hash.hex() if content_hash is not None else None,
        None,
        "0x" + soft_binding_id.ljust(32, b"\0").hex() if soft_binding_id is not None else None,
    ]
    while topics and topics[-1] is None:
        topics.pop()
    logs = await _logs(tm, topics, await _start_block(tm, library), chunk)
    refs: dict[str, MintedRef] = {}
    abi = _abi("StudioCollection")
    for entry in sorted(logs, key=lambda e: (int(e["blockNumber"]), int(e["logIndex"]))):
        address = AsyncWeb3.to_checksum_address(entry["address"])
        if address in refs or not await _ours(tm, address, implementation):
            continue
        raw_topics = [_word(t) for t in entry["topics"]]
        c = tm.w3.eth.contract(address=address, abi=abi)
        token = int.from_bytes(raw_topics[2], "big")
        if int(await tm._rpc(c.functions.tokenIdOf(raw_topics[1]).call())) != token:
            continue  # gone (a reorg): not held now
        refs[address] = MintedRef(address, token, raw_topics[1], raw_topics[3],
                                  int(entry["blockNumber"]))
    return list(refs.values())


async def find_token(tm: TransactionManager, library: Library, sha256: str, *,
                     creator: str | None = None, chunk: int = LOG_RANGE) -> TokenInfo | None:
    """The token holding the file with this sha256: the one in a collection owned by
    ``creator`` (the wallet bound in the file's credentials) when there is one, else the
    earliest; the others are listed as copies. None when no collection holds it."""
    refs = await minted_refs(tm, library, content_hash=bytes.fromhex(sha256), chunk=chunk)
    return await choose_token(tm, refs, creator)


async def choose_token(tm: TransactionManager, refs: list[MintedRef],
                       creator: str | None = None) -> TokenInfo | None:
    """The creator's token among ``refs`` when there is one, else the earliest; the others
    as copies."""
    if not refs:
        return None
    abi = _abi("StudioCollection")
    owners = {}
    for ref in refs:
        c = tm.w3.eth.contract(address=ref.collection, abi=abi)
        owners[ref.collection] = await tm._rpc(c.functions.owner().call())
    chosen = refs[0]
    by_creator = False
    if creator:
        mine = [r for r in refs if owners[r.collection].lower() == creator.lower()]
        if mine:
            chosen, by_creator = mine[0], True
    copies = [TokenCopy(r.collection, owners[r.collection], r.token_id, r.first_block)
              for r in refs if r is not chosen]
    return await _token_info(tm, chosen, owners[chosen.collection], by_creator, copies)


async def find_tokens_by_soft_binding(tm: TransactionManager, library: Library,
                                      soft_binding_id: bytes, *,
                                      chunk: int = LOG_RANGE) -> list[MintedRef]:
    """Tokens whose mint recorded this watermark soft-binding id (up to 32 bytes, as passed
    to the mint; zero-padded on the right like the contract's bytes32), earliest first."""
    if not 0 < len(soft_binding_id) <= 32:
        from studio.core.chain.rpc import ChainError

        raise ChainError("A soft-binding id is 1 to 32 bytes")
    return await minted_refs(tm, library, soft_binding_id=soft_binding_id, chunk=chunk)


async def find_token_by_soft_binding(tm: TransactionManager, library: Library,
                                     soft_binding_id: bytes, *, creator: str | None = None,
                                     chunk: int = LOG_RANGE) -> TokenInfo | None:
    """The token whose mint recorded this watermark: the earliest (or ``creator``'s), with
    the other collections that recorded the same id as copies. Anyone can record any id, so
    this is a lead; the token's credentials (its metadata's file) decide."""
    refs = await find_tokens_by_soft_binding(tm, library, soft_binding_id, chunk=chunk)
    return await choose_token(tm, refs, creator)


async def token_for(tm: TransactionManager, ref: MintedRef) -> TokenInfo:
    """One event's token on its own (no copies listed)."""
    c = tm.w3.eth.contract(address=ref.collection, abi=_abi("StudioCollection"))
    return await _token_info(tm, ref, await tm._rpc(c.functions.owner().call()), False, [])


async def _token_info(tm: TransactionManager, ref: MintedRef, collection_owner: str,
                      by_creator: bool, copies: list[TokenCopy]) -> TokenInfo:
    w3 = tm.w3
    c = w3.eth.contract(address=ref.collection, abi=_abi("StudioCollection"))
    token = ref.token_id
    receiver, amount = await tm._rpc(c.functions.royaltyInfo(token, 10**6).call())
    split: list[tuple[str, Decimal]] = []
    if receiver != ZERO_ADDRESS and await _is_splitter(tm, receiver):
        s = w3.eth.contract(address=receiver, abi=_abi("RoyaltySplitter"))
        accounts, allocs = await tm._rpc(s.functions.recipients().call())
        split = [(a, Decimal(n) / 10_000) for a, n in zip(accounts, allocs, strict=True)]
    return TokenInfo(
        collection=c.address, collection_name=await tm._rpc(c.functions.name().call()),
        token_id=token, owner=await tm._rpc(c.functions.ownerOf(token).call()),
        token_uri=await tm._rpc(c.functions.tokenURI(token).call()),
        royalty_receiver=receiver, royalty_percent=Decimal(amount) / 10_000, split=split,
        collection_owner=collection_owner, first_block=ref.first_block,
        by_creator=by_creator, copies=copies, content_hash=ref.content_hash.hex())


async def _is_splitter(tm: TransactionManager, address: str) -> bool:
    if not len(bytes(await tm._rpc(tm.w3.eth.get_code(address)))):
        return False
    s = tm.w3.eth.contract(address=address, abi=_abi("RoyaltySplitter"))
    try:
        await s.functions.recipients().call()
    except Exception:  # not a splitter (an EOA-like contract or another kind)
        return False
    return True
