"""The factories on a chain: deployed once, found again through a per-chain address book.

Where the chain has the standard deterministic-deployment proxy (Arachnid's CREATE2 deployer;
anvil ships it pre-deployed) the factories land at the same address on every chain, so a
factory someone else already deployed is simply reused. Elsewhere they are deployed plainly
and the address is recorded per chain id in the ``chain_contracts`` table.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from studio.core.chain.evm import check_evm_support
from studio.core.chain.rpc import ChainError
from studio.core.chain.txstore import TxStatus

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from studio.core.chain.txmanager import TransactionManager

log = logging.getLogger(__name__)

DETERMINISTIC_DEPLOYER = "0x4e59b44847b379578588920cA78FbF26c0B4956C"
FACTORY_SALT = b"\x00" * 32  # one salt: the same factory address on every chain
FACTORIES = ("CollectionFactory", "SplitFactory")


@dataclass(frozen=True)
class Factories:
    collection_factory: str
    split_factory: str


def create2_address(deployer: str, salt: bytes, init_code: bytes) -> str:
    from eth_utils import keccak, to_checksum_address

    digest = keccak(b"\xff" + bytes.fromhex(deployer[2:]) + salt + keccak(init_code))
    return to_checksum_address(digest[12:])


def init_code(name: str) -> bytes:
    from studio.core.chain.artifacts import load_artifact

    return bytes.fromhex(load_artifact(name)["bytecode"].removeprefix("0x"))


def predicted_address(name: str) -> str:
    """Where ``name`` lives on any chain that has the deterministic deployer."""
    return create2_address(DETERMINISTIC_DEPLOYER, FACTORY_SALT, init_code(name))


class AddressBook:
    """The ``chain_contracts`` table: which address holds which factory on which chain."""

    def __init__(self, library) -> None:
        self.library = library

    def get(self, chain_id: int, name: str) -> tuple[str | None, str, int | None] | None:
        rows = self.library.query(
            "SELECT address, method, tx_id FROM chain_contracts WHERE chain_id = ? AND name = ?",
            (chain_id, name))
        return (rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def put(self, chain_id: int, name: str, *, address: str | None, method: str,
            tx_id: int | None = None) -> None:
        with self.library.transaction() as conn:
            conn.execute(
                "INSERT INTO chain_contracts(chain_id, name, address, method, tx_id, created_at)"
                " VALUES (?,?,?,?,?,?) ON CONFLICT(chain_id, name) DO UPDATE SET"
                " address = excluded.address, method = excluded.method, tx_id = excluded.tx_id",
                (chain_id, name, address, method, tx_id, time.time()))


async def _has_code(tm: TransactionManager, address: str) -> bool:
    code = await tm._rpc(tm.w3.eth.get_code(address))
    return len(bytes(code)) > 0


async def _confirmed(tm: TransactionManager, tx_id: int, what: str):
    rec = await tm.wait(tx_id, poll_interval=0.2)
    if rec.status != TxStatus.CONFIRMED:
        raise ChainError(f"Deploying {what} did not succeed ({rec.status}): "
                         f"{rec.error or 'no reason given'}")
    return rec


async def _followable(tm: TransactionManager, tx_id: int | None) -> int | None:
    """``tx_id`` when that earlier deployment can still succeed (sent or in flight), None when
    it ended without success (refused for lack of funds, replaced, reverted): then it is
    forgotten and the factory deployed anew, instead of failing on it forever."""
    if tx_id is None:
        return None
    rec = await tm.refresh(tx_id, rebroadcast=False)
    if rec.status in (TxStatus.FAILED, TxStatus.REPLACED, TxStatus.REVERTED):
        log.info("deploy: tx #%d ended %s; deploying anew", tx_id, rec.status)
        return None
    return tx_id


async def ensure_factory(tm: TransactionManager, account: LocalAccount, library,
                         name: str) -> str:
    """The address of factory ``name`` on ``tm``'s chain, deploying it first if needed.
    Idempotent and resumable: a deployment in flight is followed by its persisted tx."""
    book = AddressBook(library)
    chain_id = tm.profile.chain_id
    known = book.get(chain_id, name)
    if known and known[0] and await _has_code(tm, known[0]):
        return known[0]
    earlier = await _followable(tm, known[2] if known else None)
    if earlier is not None and known and known[1] == "plain":
        # A plain deployment was sent before a crash: follow it rather than deploy twice.
        rec = await _confirmed(tm, earlier, name)
        receipt = await tm._rpc(tm.w3.eth.get_transaction_receipt(rec.hash))
        address = receipt["contractAddress"]
        book.put(chain_id, name, address=address, method="plain", tx_id=rec.id)
        return address

    code = init_code(name)
    if await _has_code(tm, DETERMINISTIC_DEPLOYER):
        address = create2_address(DETERMINISTIC_DEPLOYER, FACTORY_SALT, code)
        if not await _has_code(tm, address):
            await check_evm_support(tm)
            if earlier is not None:
                await tm.broadcast(earlier)  # saved before a crash: send it (idempotent)
                await _confirmed(tm, earlier, name)
            else:
                rec = await tm.prepare(account, to=DETERMINISTIC_DEPLOYER,
                                       data=FACTORY_SALT + code, purpose=f"deploy {name}",
                                       reuse=True)
                book.put(chain_id, name, address=None, method="create2", tx_id=rec.id)
                await tm.broadcast(rec.id)
                await _confirmed(tm, rec.id, name)
                earlier = rec.id
            if not await _has_code(tm, address):
                raise ChainError(f"{name} is not at its predicted address {address} after "
                                 "deployment")
        book.put(chain_id, name, address=address, method="create2", tx_id=earlier)
        log.info("deploy: %s at %s on chain %d (create2)", name, address, chain_id)
        return address

    await check_evm_support(tm)
    rec = await tm.prepare(account, to=None, data=code, purpose=f"deploy {name}", reuse=True)
    book.put(chain_id, name, address=None, method="plain", tx_id=rec.id)  # before the send
    await tm.broadcast(rec.id)
    rec = await _confirmed(tm, rec.id, name)
    receipt = await tm._rpc(tm.w3.eth.get_transaction_receipt(rec.hash))
    address = receipt["contractAddress"]
    book.put(chain_id, name, address=address, method="plain", tx_id=rec.id)
    log.info("deploy: %s at %s on chain %d (plain)", name, address, chain_id)
    return address


async def ensure_factories(tm: TransactionManager, account: LocalAccount,
                           library) -> Factories:
    collections = await ensure_factory(tm, account, library, "CollectionFactory")
    splits = await ensure_factory(tm, account, library, "SplitFactory")
    return Factories(collections, splits)


async def known_factories(tm: TransactionManager, library) -> Factories | None:
    """The factories on this chain without deploying anything (for read-only commands)."""
    book = AddressBook(library)
    found = []
    for name in FACTORIES:
        row = book.get(tm.profile.chain_id, name)
        address = row[0] if row and row[0] else predicted_address(name)
        if not await _has_code(tm, address):
            return None
        found.append(address)
    return Factories(*found)
