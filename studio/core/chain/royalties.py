"""Royalty splits the studio created: balances per recipient, and releasing what is due.

A splitter holds what marketplaces paid it and lets anyone pay a recipient their due
(pull payments); releasing goes through the transaction manager like every other send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.core.chain.mintstore import MintStore
from studio.core.chain.txstore import TxRecord, TxStatus

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from studio.core.chain.txmanager import TransactionManager


@dataclass(frozen=True)
class Share:
    address: str
    label: str
    allocation: int  # of 1e6
    releasable: int  # wei due now
    released: int  # wei paid so far

    @property
    def percent(self) -> str:
        return f"{self.allocation / 10_000:g}"


@dataclass(frozen=True)
class SplitBalance:
    address: str
    balance: int  # wei held by the splitter
    total_received: int
    shares: list[Share]

    @property
    def releasable(self) -> int:
        return sum(s.releasable for s in self.shares)

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address, "balance": str(self.balance),
                "total_received": str(self.total_received),
                "shares": [{"address": s.address, "label": s.label, "percent": s.percent,
                            "releasable": str(s.releasable), "released": str(s.released)}
                           for s in self.shares]}


def _splitter(tm: TransactionManager, address: str):
    from studio.core.chain.artifacts import load_artifact

    return tm.w3.eth.contract(address=address, abi=load_artifact("RoyaltySplitter")["abi"])


async def split_balance(tm: TransactionManager, address: str,
                        labels: dict[str, str] | None = None) -> SplitBalance:
    """What ``address`` (a RoyaltySplitter) holds and owes each recipient, read on-chain."""
    c = _splitter(tm, address)
    accounts, allocs = await tm._rpc(c.functions.recipients().call())
    shares = []
    for account, alloc in zip(accounts, allocs, strict=True):
        due = await tm._rpc(c.get_function_by_signature("releasable(address)")(account).call())
        paid = await tm._rpc(c.get_function_by_signature("released(address)")(account).call())
        shares.append(Share(account, (labels or {}).get(account, ""), int(alloc), int(due),
                            int(paid)))
    balance = int(await tm._rpc(tm.w3.eth.get_balance(address)))
    received = int(await tm._rpc(c.get_function_by_signature("totalReceived()")().call()))
    return SplitBalance(address, balance, received, shares)


async def list_splits(tm: TransactionManager, library) -> list[SplitBalance]:
    """Every split this library created on ``tm``'s chain, with live balances."""
    out = []
    for address, entries in MintStore(library).splits(tm.profile.chain_id):
        labels = {e["address"]: e.get("label", "") for e in entries}
        out.append(await split_balance(tm, address, labels))
    return out


async def release(tm: TransactionManager, account: LocalAccount, split: str,
                  recipients: list[str] | None = None, *, poll_interval: float = 0.5,
                  timeout: float = 180.0) -> list[TxRecord]:
    """Pay each recipient (all by default) what is due to them now; one transaction each,
    skipping those with nothing due. Returns the confirmed transactions."""
    from studio.core.chain.artifacts import load_artifact
    from studio.core.chain.rpc import ChainError

    current = await split_balance(tm, split)
    wanted = set(recipients) if recipients else None
    c = _splitter(tm, split)
    abi = load_artifact("RoyaltySplitter")["abi"]
    done = []
    for share in current.shares:
        if share.releasable == 0 or (wanted is not None and share.address not in wanted):
            continue
        data = c.get_function_by_signature("release(address)")(share.address)\
            ._encode_transaction_data()
        rec = await tm.send(account, to=split, data=data, abi=abi,
                            purpose=f"release royalties to {share.address[:10]}…")
        rec = await tm.wait(rec.id, timeout=timeout, poll_interval=poll_interval)
        if rec.status != TxStatus.CONFIRMED:
            raise ChainError(f"Releasing to {share.address} ended {rec.status}: "
                             f"{rec.error or 'no reason given'}")
        done.append(rec)
    return done
