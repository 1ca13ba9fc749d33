"""The library against the chain: is every token the library calls minted still there?

Run at the start of every mint (and ``studio mint --resume``) and before any "already minted"
answer. A token that is gone (a reset Sandbox, a reorg, a node that lost state) is reported
plainly and its record stepped back, so minting the file again works; a token that is there
but whose asset lost its minted flag gets the flag back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from studio.core.chain.mintstore import MintRecord, MintState
from studio.core.chain.plan import ZERO_ADDRESS

if TYPE_CHECKING:
    from studio.core.chain.mint import MintWorkflow

log = logging.getLogger(__name__)


async def reconcile(flow: MintWorkflow, *, asset_id: int | None = None,
                    mint_ids: Sequence[int] | None = None) -> list[MintRecord]:
    """Check the minted records of ``flow``'s chain (all, one asset's, or the given ids);
    returns those whose token is gone, already stepped back (state ``published`` or
    ``minting``, minted flag cleared, the reason in ``error``)."""
    store, chain_id = flow.store, flow.tm.profile.chain_id
    records = store.minted_on(chain_id)
    if asset_id is not None:
        records = [r for r in records if r.asset_id == asset_id]
    if mint_ids is not None:
        records = [r for r in records if r.id in set(mint_ids)]
    if not records:
        return []
    await flow.tm.check_chain()
    lost = []
    for rec in records:
        back = await _missing(flow, rec)
        if back is None:  # there (two or three calls a record: cheap enough for each start)
            if flow.library.get(rec.asset_id) and rec.asset_id not in _minted_ids(flow):
                store.update(rec.id, minted_at=rec.updated_at)  # the flag a crash lost
            continue
        # What the chain says now about each linked transaction (a reorg brings them back
        # to pending; a reset chain shows them gone); the next run follows or re-sends.
        for tx_id in (rec.split_tx, rec.collection_tx, rec.mint_tx):
            if tx_id is not None:
                await flow.tm.refresh(tx_id, rebroadcast=False)
        message = (f"Token {rec.token_id} in {rec.collection} is no longer on "
                   f"{flow.tm.profile.name}: the chain was reset or reorganised. Mint the file "
                   "again to restore it.")
        log.warning("mint #%d: %s", rec.id, message)
        rec = store.update(rec.id, state=back, token_id=None, confirmations=0, error=message,
                           minted_at=None)
        flow.progress(rec, message)
        lost.append(rec)
    return lost


async def _missing(flow: MintWorkflow, rec: MintRecord) -> MintState | None:
    """The state to step back to when the token is gone, or None when it is there."""
    collection = rec.collection or ZERO_ADDRESS
    if not await flow._has_code(collection) or (
            rec.split_address and not await flow._has_code(rec.split_address)):
        return MintState.PUBLISHED
    if await flow.token_of(collection, rec.sha256) == 0:
        return MintState.MINTING
    return None


def _minted_ids(flow: MintWorkflow) -> set[int]:
    return flow.library.minted_ids()
