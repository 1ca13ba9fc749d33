"""Speed up or cancel a pending transaction, for callers without an event loop (the GUI's
worker threads, the CLI): quote the replacement's fees, then send it with the fees the user
confirmed, signed by the sender's wallet account (key loaded from the keyring).

Both functions block on RPC: call them off the GUI thread.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from studio.core.chain.rpc import ChainError
from studio.core.chain.txstore import TxRecord, TxStatus, TxStore
from studio.core.library import Library
from studio.core.paths import StudioPaths
from studio.core.settings import ChainProfile, Settings

CANCEL_GAS = 21_000  # a zero-value self-transfer


@dataclass(frozen=True)
class ReplacementQuote:
    tx_id: int
    cancel: bool
    max_fee: int  # wei per gas
    max_priority_fee: int
    gas: int

    @property
    def max_cost(self) -> int:
        """The most the replacement can cost in fees (wei)."""
        return self.gas * self.max_fee


def replaceable_problem(rec: TxRecord, wallet_addresses: set[str]) -> str | None:
    """Why ``rec`` cannot be sped up or cancelled from this wallet, or None when it can."""
    if rec.status not in (TxStatus.SIGNED, TxStatus.PENDING):
        return "Only a transaction that is not mined yet can be sped up or cancelled"
    if rec.from_addr.lower() not in {a.lower() for a in wallet_addresses}:
        return f"Its sender {rec.from_addr} is not an account in this wallet"
    return None


def _profile(settings: Settings, rec: TxRecord) -> ChainProfile:
    from studio.core.chain.profiles import ChainProfiles, ProfileError

    try:
        return ChainProfiles(settings).get(rec.profile)
    except ProfileError as exc:
        raise ChainError(f"The chain profile of transaction #{rec.id} was removed; "
                         "add it again to replace the transaction") from exc


def _record(library: Library, tx_id: int) -> TxRecord:
    rec = TxStore(library).get(tx_id)
    if rec is None:
        raise ChainError(f"No transaction #{tx_id} in the library")
    return rec


async def _with_manager(paths: StudioPaths, settings: Settings, library: Library,
                        rec: TxRecord, fn):
    from studio.core.chain.endpoint import endpoint_url
    from studio.core.chain.txmanager import TransactionManager

    profile = _profile(settings, rec)
    url = await asyncio.to_thread(endpoint_url, paths, settings, profile)
    async with TransactionManager(library, profile, url) as tm:
        await tm.check_chain()
        return await fn(tm)


def quote_replacement(paths: StudioPaths, settings: Settings, library: Library, tx_id: int,
                      *, cancel: bool) -> ReplacementQuote:
    """The fees a speed-up (or cancel) of ``tx_id`` would pay now. Blocking."""
    rec = _record(library, tx_id)

    async def go(tm):
        max_fee, tip = await tm.replacement_fees(tx_id)
        return ReplacementQuote(tx_id, cancel, max_fee, tip, CANCEL_GAS if cancel else rec.gas)

    return asyncio.run(_with_manager(paths, settings, library, rec, go))


def send_replacement(paths: StudioPaths, settings: Settings, library: Library,
                     quote: ReplacementQuote) -> TxRecord:
    """Sign (with the sender's wallet account) and broadcast the replacement. Blocking."""
    from studio.core.wallet.service import WalletService

    rec = _record(library, quote.tx_id)
    account = WalletService(paths, settings).local_account(rec.from_addr)
    fees = (quote.max_fee, quote.max_priority_fee)

    async def go(tm):
        if quote.cancel:
            return await tm.cancel(quote.tx_id, account, fees)
        return await tm.speed_up(quote.tx_id, account, fees)

    return asyncio.run(_with_manager(paths, settings, library, rec, go))
