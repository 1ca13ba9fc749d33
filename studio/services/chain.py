"""A connection to one chain profile, written once: the wallet account, the endpoint (starting
the Sandbox node when needed) and a :class:`TransactionManager`. The mint dialog, ``studio
mint``, ``studio chain``, transaction replacement and the royalties view all open it here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studio.core.chain.txmanager import TransactionManager
    from studio.core.settings import ChainProfile
    from studio.services.studio import Studio

ACTIVE = ""  # the wallet's active account


@dataclass
class ChainSession:
    studio: Studio
    profile: ChainProfile
    tm: TransactionManager
    account: Any = None  # eth_account LocalAccount, or None when opened without one

    @classmethod
    @asynccontextmanager
    async def open(cls, studio: Studio, profile: ChainProfile | str | None = None, *,
                   account: str | None = ACTIVE, check: bool = False
                   ) -> AsyncIterator[ChainSession]:
        """Connect to ``profile`` (default: the active one) with ``account`` (an address or
        label; ``ACTIVE`` for the active account; None for no account). Blocking steps (the
        keyring, starting anvil) run on threads; the RPC runs on the caller's loop."""
        from studio.core.chain.txmanager import TransactionManager

        profile = studio.profile(profile)
        local = None
        if account is not None:
            local = await asyncio.to_thread(studio.local_account, account or None)
        url = await asyncio.to_thread(studio.endpoint_url, profile)
        async with TransactionManager(studio.library, profile, url) as tm:
            if check:
                await tm.check_chain()
            yield cls(studio, profile, tm, local)

    def mint_workflow(self, progress=None):
        """A :class:`MintWorkflow` on this session; each step also tells the app's views."""
        from studio.core.chain.mint import MintWorkflow

        def step(rec, message: str) -> None:
            self.studio.emit(self.studio.events.transaction_updated, 0)
            if progress is not None:
                progress(rec, message)

        return MintWorkflow(self.studio.library, self.tm, self.account, progress=step)

    async def estimate(self, plan: Any) -> Any:
        return await self.mint_workflow().estimate(plan)

    async def mint(self, plan: Any, progress=None, guard: Any = None) -> Any:
        """Create and run the mint of ``plan`` (after asking the chain about this asset's
        earlier mints); ``guard``: the fees the user confirmed (``FeePlan.guard()``),
        nothing is signed above them. The app hears ``asset_minted`` when done."""
        flow = self.mint_workflow(progress)
        rec = await flow.begin(plan)
        rec = await flow.run(rec.id, guard)
        self.studio.emit(self.studio.events.asset_minted, rec.asset_id)
        return rec


def known_collections(studio: Studio, account: str) -> list[tuple[str, str]]:
    """(address, name) of the collections ``account`` has minted into. Blocking (SQLite)."""
    rows = studio.library.query(
        "SELECT DISTINCT collection, coalesce(new_collection_name, '') FROM mints"
        " WHERE collection IS NOT NULL AND account = ? AND state = 'minted'", (account,))
    return [(r[0], r[1] or "Collection") for r in rows]


async def quote_replacement(studio: Studio, tx_id: int, *, cancel: bool) -> Any:
    """The fees a speed-up (or cancel) of transaction ``tx_id`` would pay now."""
    from studio.core.chain.replace import (
        CANCEL_GAS,
        ReplacementQuote,
        replacement_profile,
        tx_record,
    )

    rec = tx_record(studio.library, tx_id)
    profile = replacement_profile(studio.settings, rec)
    async with ChainSession.open(studio, profile, account=None, check=True) as session:
        max_fee, tip = await session.tm.replacement_fees(tx_id)
    return ReplacementQuote(tx_id, cancel, max_fee, tip, CANCEL_GAS if cancel else rec.gas)


async def send_replacement(studio: Studio, quote: Any) -> Any:
    """Sign (with the sender's wallet account) and broadcast the replacement ``quote``."""
    from studio.core.chain.replace import replacement_profile, tx_record

    rec = tx_record(studio.library, quote.tx_id)
    profile = replacement_profile(studio.settings, rec)
    fees = (quote.max_fee, quote.max_priority_fee)
    async with ChainSession.open(studio, profile, account=rec.from_addr, check=True) as s:
        if quote.cancel:
            new = await s.tm.cancel(quote.tx_id, s.account, fees)
        else:
            new = await s.tm.speed_up(quote.tx_id, s.account, fees)
    studio.emit(studio.events.transaction_updated, new.id)
    return new
