"""Readable revert reasons: ``Error(string)``, ``Panic(uint256)`` and ABI custom errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
PANIC_CODES = {
    0x01: "assertion failed", 0x11: "arithmetic overflow or underflow",
    0x12: "division by zero", 0x21: "invalid enum value", 0x22: "bad storage byte array",
    0x31: "pop on an empty array", 0x32: "array index out of bounds",
    0x41: "out of memory", 0x51: "call to an uninitialised function",
}


def revert_data(exc: BaseException) -> bytes | None:
    """The raw revert bytes web3 attached to ``exc`` (ContractLogicError.data or an RPC error's
    ``data`` field), if any."""
    candidates: list[Any] = [getattr(exc, "data", None)]
    response = getattr(exc, "rpc_response", None)
    if isinstance(response, dict) and isinstance(response.get("error"), dict):
        candidates.append(response["error"].get("data"))
    for data in candidates:
        if isinstance(data, dict):
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
            try:
                return bytes.fromhex(data[2:])
            except ValueError:
                continue
    return None


def decode_revert(data: bytes, abi: Sequence[dict] | None = None) -> str:
    """A one-line reason for ``data`` as returned by a reverting call."""
    from eth_abi import decode
    from eth_abi.exceptions import DecodingError

    if not data:
        return "reverted without a reason"
    selector, body = data[:4], data[4:]
    try:
        if selector == ERROR_SELECTOR:
            return str(decode(["string"], body)[0])
        if selector == PANIC_SELECTOR:
            code = int(decode(["uint256"], body)[0])
            return f"panic 0x{code:02x} ({PANIC_CODES.get(code, 'unknown panic code')})"
    except DecodingError:
        return f"undecodable revert data 0x{data.hex()}"
    for entry in abi or ():
        if entry.get("type") != "error":
            continue
        from eth_utils import keccak
        from eth_utils.abi import abi_to_signature, collapse_if_tuple

        signature = abi_to_signature(entry)
        if keccak(text=signature)[:4] != selector:
            continue
        inputs = entry.get("inputs", [])
        try:
            values = decode([collapse_if_tuple(i) for i in inputs], body)
        except DecodingError:
            return f"{entry['name']} (arguments undecodable)"
        args = ", ".join(f"{i.get('name') or f'arg{n}'}={_show(v, i.get('type', ''))}"
                         for n, (i, v) in enumerate(zip(inputs, values, strict=True)))
        return f"{entry['name']}({args})"
    return f"custom error 0x{selector.hex()} (no ABI to decode it)"


def _show(value: Any, abi_type: str) -> str:
    if abi_type == "address" and isinstance(value, str):
        from eth_utils import to_checksum_address

        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
