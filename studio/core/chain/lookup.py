"""Finding the token that holds a file (``studio verify --chain``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from studio.core.chain.plan import ZERO_ADDRESS
from studio.core.library import Library

if TYPE_CHECKING:
    from studio.core.chain.txmanager import TransactionManager


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
