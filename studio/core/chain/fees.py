"""What a transaction may pay per gas, decided by the chain's own recent history rather than by
whatever the RPC endpoint suggests, and the guard that holds signing to what the user confirmed.

An endpoint is not trusted with fees: ``eth_maxPriorityFeePerGas`` is only a suggestion, cut
down to what recent blocks actually paid (``eth_feeHistory``), and a profile may set its own
hard maximum per gas. A :class:`FeeGuard` carries the maximum the user confirmed; signing
anything above it stops before the key is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from studio.core.chain.rpc import ChainError, EndpointUnavailable

if TYPE_CHECKING:
    from studio.core.chain.txmanager import TransactionManager

GWEI = 10**9
HISTORY_BLOCKS = 20
# The tip ceiling when recent blocks paid (nearly) no tips, as on a quiet testnet or anvil.
TIP_FLOOR_WEI = 2 * GWEI
DEFAULT_TIP_WEI = GWEI  # for a node without eth_maxPriorityFeePerGas


class FeeTooHigh(ChainError):
    """The fee the endpoint asks is above the profile's maximum: nothing was signed."""


class FeeAboveConfirmed(ChainError):
    """Signing would pay more than the user confirmed: nothing was signed or sent."""


def gwei(wei: int) -> str:
    return f"{Decimal(wei) / GWEI:.9f}".rstrip("0").rstrip(".")


def ether(wei: int) -> str:
    return f"{Decimal(wei) / 10**18:.18f}".rstrip("0").rstrip(".") or "0"


@dataclass(frozen=True)
class FeeQuote:
    max_fee_per_gas: int
    tip: int
    next_base_fee: int
    ceiling: int  # the most per gas recent history justifies
    node_tip: int  # what the endpoint suggested (before the cut)


async def quote(tm: TransactionManager) -> FeeQuote:
    """EIP-1559 fees for the next block: room for the base fee to double plus a tip, both
    bounded by the last ``HISTORY_BLOCKS`` blocks, and by the profile's own maximum."""
    history = None
    try:
        history = await tm._rpc(tm.w3.eth.fee_history(HISTORY_BLOCKS, "latest", [50, 90]))
    except EndpointUnavailable:
        raise
    except Exception:  # a node without eth_feeHistory: fall back to the latest block
        history = None
    if history is not None and history.get("baseFeePerGas"):
        bases = [int(b) for b in history["baseFeePerGas"]]
        next_base, base_ceiling = bases[-1], max(bases)
        paid = [int(r[-1]) for r in (history.get("reward") or []) if r]
    else:
        block = await tm._rpc(tm.w3.eth.get_block("latest"))
        next_base = base_ceiling = int(block.get("baseFeePerGas") or 0)
        paid = []
    tip_ceiling = max([TIP_FLOOR_WEI, *paid])
    try:
        node_tip = int(await tm._rpc(tm.w3.eth.max_priority_fee))
    except EndpointUnavailable:
        raise
    except Exception:  # a node without eth_maxPriorityFeePerGas
        node_tip = DEFAULT_TIP_WEI
    tip = min(node_tip, tip_ceiling)
    ceiling = 2 * base_ceiling + tip_ceiling
    max_fee = min(2 * next_base + tip, ceiling)
    cap = profile_cap_wei(tm)
    if cap is not None and max_fee > cap:
        raise FeeTooHigh(
            f"{tm.profile.name} asks up to {gwei(max_fee)} gwei per gas, above this profile's "
            f"maximum of {gwei(cap)} gwei. Nothing was signed or sent; raise the maximum in the "
            "profile if the network really is that busy.")
    return FeeQuote(max_fee, tip, next_base, ceiling, node_tip)


def profile_cap_wei(tm: TransactionManager) -> int | None:
    cap = getattr(tm.profile, "max_fee_gwei", 0) or 0
    return int(Decimal(str(cap)) * GWEI) if cap > 0 else None


@dataclass
class FeeGuard:
    """What the user confirmed: at most ``max_fee_per_gas`` on any transaction and
    ``max_total_wei`` over all of them (gas limit x max fee, the most they can cost)."""

    max_fee_per_gas: int
    max_total_wei: int
    committed_wei: int = 0
    signed: list[int] = field(default_factory=list)

    def check(self, gas: int, max_fee_per_gas: int) -> None:
        if max_fee_per_gas > self.max_fee_per_gas:
            raise FeeAboveConfirmed(
                f"The endpoint now asks up to {gwei(max_fee_per_gas)} gwei per gas, above the "
                f"{gwei(self.max_fee_per_gas)} gwei you confirmed. Nothing was signed or sent; "
                "look at the fees again and confirm anew.")
        if self.committed_wei + gas * max_fee_per_gas > self.max_total_wei:
            raise FeeAboveConfirmed(
                f"This transaction could bring the fees to "
                f"{ether(self.committed_wei + gas * max_fee_per_gas)}, above the "
                f"{ether(self.max_total_wei)} you confirmed. Nothing was signed or sent.")

    def commit(self, tx_id: int, gas: int, max_fee_per_gas: int) -> None:
        self.committed_wei += gas * max_fee_per_gas
        self.signed.append(tx_id)
