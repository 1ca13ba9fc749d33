"""What a mint will send and the most it can cost, shown to the user before anything is signed.

A :class:`FeePlan` is Qt-free: the CLI prints its lines and asks, the GUI shows the same lines
in its confirmation. Once confirmed, :meth:`FeePlan.guard` holds signing to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from studio.core.chain.fees import FeeGuard, ether, gwei

if TYPE_CHECKING:
    from studio.core.chain.mint import MintWorkflow
    from studio.core.chain.mintstore import MintRecord
    from studio.core.chain.plan import MintPlan

# Gas limits of each step: what bench/gas.py measures on anvil (factories 2.51M and 1.74M,
# a collection 238k, a split 94k + ~7k per recipient, a mint 133k-156k), plus the 20 % the
# transaction manager adds to contract calls, plus a margin. Upper bounds: the fee guard
# refuses to sign past the total shown, so these must not be below what is signed.
GAS_DEPLOY = {"CollectionFactory": 3_300_000, "SplitFactory": 2_400_000}
GAS_NEW_COLLECTION = 330_000
GAS_NEW_SPLIT_BASE = 150_000
GAS_NEW_SPLIT_PER_RECIPIENT = 30_000
GAS_MINT = 260_000


@dataclass(frozen=True)
class PlannedTx:
    description: str
    to: str | None  # None: the transaction creates a contract
    gas: int  # the most it may use


@dataclass(frozen=True)
class FeePlan:
    chain_name: str
    chain_id: int
    currency: str
    max_fee_per_gas: int
    txs: tuple[PlannedTx, ...]

    @property
    def gas(self) -> int:
        return sum(t.gas for t in self.txs)

    @property
    def max_total_wei(self) -> int:
        return self.gas * self.max_fee_per_gas

    # The names the mint dialog has used since before the plan listed every transaction.
    max_cost_wei = max_total_wei

    @property
    def steps(self) -> list[str]:
        return [t.description for t in self.txs]

    def lines(self) -> list[str]:
        out = [f"Chain: {self.chain_name} (chain id {self.chain_id})",
               f"Transactions to send: {len(self.txs)}"]
        for n, t in enumerate(self.txs, 1):
            out.append(f"  {n}. {t.description} -> {t.to or 'a new contract'} "
                       f"(at most {t.gas:,} gas)")
        out.append(f"Max fee per gas: {gwei(self.max_fee_per_gas)} gwei")
        out.append(f"Maximum total fee: {ether(self.max_total_wei)} {self.currency}")
        return out

    def text(self) -> str:
        return "\n".join(self.lines())

    def guard(self, max_total_wei: int | None = None) -> FeeGuard:
        """The guard for signing once the user confirmed this plan (or a larger total of
        their own, e.g. ``--max-fee``: then the fee per gas may rise within that total)."""
        if max_total_wei is None or max_total_wei <= self.max_total_wei:
            return FeeGuard(self.max_fee_per_gas, self.max_total_wei)
        return FeeGuard(max_total_wei // max(self.gas, 1), max_total_wei)


async def _factory_txs(flow: MintWorkflow) -> tuple[list[PlannedTx], dict[str, str]]:
    from studio.core.chain.deploy import (
        DETERMINISTIC_DEPLOYER,
        FACTORIES,
        AddressBook,
        predicted_address,
    )

    txs, found = [], {}
    book = AddressBook(flow.library)
    has_deployer = await flow._has_code(DETERMINISTIC_DEPLOYER)
    for name in FACTORIES:
        row = book.get(flow.tm.profile.chain_id, name)
        address = row[0] if row and row[0] else predicted_address(name)
        if await flow._has_code(address):
            found[name] = address
        else:
            txs.append(PlannedTx(f"deploy {name} (first use of this chain)",
                                 DETERMINISTIC_DEPLOYER if has_deployer else None,
                                 GAS_DEPLOY[name]))
    return txs, found


async def _plan(flow: MintWorkflow, txs: list[PlannedTx]) -> FeePlan:
    quote = await flow.tm.fee_quote()
    p = flow.tm.profile
    return FeePlan(p.name, p.chain_id, p.currency, quote.max_fee_per_gas, tuple(txs))


async def _split_tx(flow: MintWorkflow, found: dict[str, str], recipients: list[str],
                    allocs: list[int]) -> PlannedTx | None:
    if len(recipients) < 2:
        return None  # one recipient: royalties go straight to them
    factory = found.get("SplitFactory")
    if factory is not None:
        splits = flow._contract("SplitFactory", factory)
        if await flow._has_code(await flow._call(splits.functions.predict(recipients,
                                                                          allocs))):
            return None
    return PlannedTx(f"create the royalty split ({len(recipients)} recipients)", factory,
                     GAS_NEW_SPLIT_BASE + GAS_NEW_SPLIT_PER_RECIPIENT * len(recipients))


async def _collection_txs(flow: MintWorkflow, found: dict[str, str], name: str | None,
                          symbol: str | None, existing: str | None) -> tuple[
                              list[PlannedTx], str | None]:
    """(the collection-creating tx if one is needed, the collection's address if known)."""
    from studio.core.chain.mint import collection_salt

    if name is None:
        return [], existing
    factory = found.get("CollectionFactory")
    address = None
    if factory is not None:
        c = flow._contract("CollectionFactory", factory)
        address = await flow._call(c.functions.predictCollection(
            flow.account.address, collection_salt(name, symbol or "")))
        if await flow._has_code(address):
            return [], address
    return [PlannedTx(f"create the collection {name} ({symbol})", factory,
                      GAS_NEW_COLLECTION)], address


async def mint_fee_plan(flow: MintWorkflow, plan: MintPlan) -> FeePlan:
    """Every transaction a new mint of ``plan`` will send, at today's capped max fee."""
    _, recipients, allocs = plan.validated()
    await flow.tm.check_chain()
    txs, found = await _factory_txs(flow)
    name, symbol = plan.new_collection or (None, None)
    split = await _split_tx(flow, found, recipients, allocs)
    txs += [split] if split else []
    coll_txs, address = await _collection_txs(flow, found, name, symbol, plan.collection)
    txs += coll_txs
    txs.append(PlannedTx(f"mint the token “{plan.title.strip()}”", address, GAS_MINT))
    return await _plan(flow, txs)


async def resume_fee_plan(flow: MintWorkflow, records: list[MintRecord]) -> FeePlan:
    """Every transaction resuming ``records`` may still send (an upper bound)."""
    from studio.core.chain.mintstore import MintState

    await flow.tm.check_chain()
    early = [r for r in records if r.state in (MintState.DRAFT, MintState.PUBLISHED)]
    txs, found = await _factory_txs(flow) if early else ([], {})
    for rec in records:
        if rec in early:
            split = await _split_tx(flow, found, [e["address"] for e in rec.split],
                                    [int(e["allocation"]) for e in rec.split])
            txs += [split] if split else []
            coll_txs, _ = await _collection_txs(flow, found, rec.new_collection_name,
                                                rec.new_collection_symbol, rec.collection)
            txs += coll_txs
        txs.append(PlannedTx(f"mint #{rec.id} “{rec.title}”", rec.collection, GAS_MINT))
    return await _plan(flow, txs)
