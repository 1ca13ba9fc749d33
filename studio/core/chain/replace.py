"""Speed up or cancel a pending transaction: the quote, the checks and the lookups. The
services (``studio.services.chain``) run the quote and the send over a chain session."""

from __future__ import annotations

from dataclasses import dataclass

from studio.core.chain.rpc import ChainError
from studio.core.chain.txstore import TxRecord, TxStatus, TxStore
from studio.core.library import Library
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


def replacement_profile(settings: Settings, rec: TxRecord) -> ChainProfile:
    from studio.core.chain.profiles import ChainProfiles, ProfileError

    try:
        return ChainProfiles(settings).get(rec.profile)
    except ProfileError as exc:
        raise ChainError(f"The chain profile of transaction #{rec.id} was removed; "
                         "add it again to replace the transaction") from exc


def tx_record(library: Library, tx_id: int) -> TxRecord:
    rec = TxStore(library).get(tx_id)
    if rec is None:
        raise ChainError(f"No transaction #{tx_id} in the library")
    return rec
