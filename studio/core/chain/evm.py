"""Does the chain run the opcodes our contracts use? Asked before deploying the factories.

The contracts are compiled for Cancun (PUSH0 from Shanghai; MCOPY, TLOAD/TSTORE from Cancun).
On an older chain the factory deployment would be mined and fail, burning its gas; a probe
``eth_call`` per opcode (free) tells first.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import TYPE_CHECKING

from studio.core.chain.rpc import ChainError, EndpointUnavailable

if TYPE_CHECKING:
    from studio.core.chain.txmanager import TransactionManager

log = logging.getLogger(__name__)

# opcode -> (name, fork that brought it, creation code that runs it and stops)
PROBES: dict[int, tuple[str, str, bytes]] = {
    0x5F: ("PUSH0", "Shanghai", bytes.fromhex("5f5000")),
    0x5E: ("MCOPY", "Cancun", bytes.fromhex("6000600060005e00")),
    0x5C: ("TLOAD", "Cancun", bytes.fromhex("60005c5000")),
    0x5D: ("TSTORE", "Cancun", bytes.fromhex("600060005d00")),
}


class UnsupportedEvm(ChainError):
    """The chain lacks opcodes the contracts need: nothing was deployed."""


def opcodes(code: bytes) -> set[int]:
    """The opcodes in ``code``, skipping PUSH data (trailing data sections may add a few
    false hits, which only makes the check ask about one opcode more)."""
    found: set[int] = set()
    i = 0
    while i < len(code):
        op = code[i]
        found.add(op)
        i += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)
    return found


@cache
def needed_opcodes() -> tuple[int, ...]:
    """The newer opcodes the factories (their creation code holds the implementations) use."""
    from studio.core.chain.deploy import FACTORIES, init_code

    used: set[int] = set()
    for name in FACTORIES:
        used |= opcodes(init_code(name))
    return tuple(sorted(op for op in PROBES if op in used))


async def missing_opcodes(tm: TransactionManager) -> list[str]:
    from web3.exceptions import Web3Exception

    missing = []
    for op in needed_opcodes():
        name, fork, probe = PROBES[op]
        try:
            await tm._rpc(tm.w3.eth.call({"data": probe}, "latest"))
        except EndpointUnavailable:
            raise
        except (Web3Exception, ValueError) as exc:
            log.info("evm: %s probe failed on chain %d: %s", name, tm.profile.chain_id, exc)
            missing.append(f"{name} ({fork})")
    return missing


async def check_evm_support(tm: TransactionManager) -> None:
    """Raise UnsupportedEvm, before anything is signed, when the chain lacks an opcode."""
    if getattr(tm, "_evm_checked", False):
        return
    missing = await missing_opcodes(tm)
    if missing:
        raise UnsupportedEvm(
            f"{tm.profile.name} (chain {tm.profile.chain_id}) does not run "
            f"{', '.join(missing)}, which the studio's contracts use. Nothing was deployed "
            "and no gas was spent; use a chain with the Cancun upgrade.")
    tm._evm_checked = True  # type: ignore[attr-defined]
