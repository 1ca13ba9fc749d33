"""What the user asked a mint to do, validated before anything is written or sent: the split
(recipients and shares scaled like 0xSplits), the royalty, the collection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from studio.core.chain.rpc import ChainError

TOTAL_ALLOCATION = 1_000_000  # the split factory's scale (like 0xSplits)
MAX_RECIPIENTS = 50
DEFAULT_ROYALTY_CAP = Decimal("10")  # percent; above it needs a deliberate override
ZERO_ADDRESS = "0x" + "00" * 20


class MintError(ChainError):
    """The mint cannot go on; the message is meant for the user."""


@dataclass(frozen=True)
class SplitEntry:
    address: str
    percent: Decimal
    label: str = ""


def parse_percent(text: str | Decimal | float, what: str = "share") -> Decimal:
    try:
        value = Decimal(str(text).strip().rstrip("%"))
    except InvalidOperation as exc:
        raise MintError(f"The {what} {text!r} is not a number") from exc
    if not value.is_finite():
        raise MintError(f"The {what} {text!r} is not a number")
    return value


def check_address(text: str, *, what: str = "address") -> str:
    """A checksummed address. Mixed case must be a valid checksum (a typo guard); all-lower
    or all-upper hex is accepted and checksummed."""
    from eth_utils import is_checksum_address, is_hex_address, to_checksum_address

    text = text.strip()
    if not is_hex_address(text):
        raise MintError(f"The {what} {text!r} is not an Ethereum address (0x and 40 hex digits)")
    body = text[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(text):
        raise MintError(f"The {what} {text} has a wrong checksum (mixed case that does not "
                        "match): check it for a typo")
    if int(text, 16) == 0:
        raise MintError(f"The {what} must not be the zero address")
    return to_checksum_address(text)


def allocations(entries: Sequence[SplitEntry]) -> tuple[list[str], list[int]]:
    """Validated split entries as the factory wants them: recipients ascending (numerically)
    and unique, allocations scaled to 1e6 and summing to exactly 1e6."""
    if not entries:
        raise MintError("The split needs at least one recipient")
    if len(entries) > MAX_RECIPIENTS:
        raise MintError(f"A split holds at most {MAX_RECIPIENTS} recipients")
    seen: dict[str, int] = {}
    scaled: dict[str, int] = {}
    for n, e in enumerate(entries, 1):
        address = check_address(e.address, what=f"address in row {n}")
        if address in seen:
            raise MintError(f"{address} appears twice in the split (rows {seen[address]} "
                            f"and {n}); merge their shares")
        seen[address] = n
        if e.percent <= 0:
            raise MintError(f"The share in row {n} must be more than 0 %")
        units = e.percent * TOTAL_ALLOCATION / 100
        if units != units.to_integral_value():
            raise MintError(f"The share in row {n} ({e.percent} %) has more than 4 decimals")
        scaled[address] = int(units)
    total = sum(scaled.values())
    if total != TOTAL_ALLOCATION:
        raise MintError(f"The shares add up to {Decimal(total) / 10_000} %, not 100 %")
    ordered = sorted(scaled, key=lambda a: int(a, 16))
    return ordered, [scaled[a] for a in ordered]


def royalty_bps(percent: Decimal, *, allow_high: bool = False) -> int:
    if percent < 0:
        raise MintError("The royalty must not be negative")
    if percent >= 100:
        # The collection contract holds royalties below 100 % too (Manifold's rule).
        raise MintError("The royalty must stay below 100 % of the sale")
    if percent > DEFAULT_ROYALTY_CAP and not allow_high:
        raise MintError(f"A royalty of {percent} % is above the usual {DEFAULT_ROYALTY_CAP} % "
                        "cap; confirm it deliberately (--allow-high-royalty) to use it")
    bps = percent * 100
    if bps != bps.to_integral_value():
        raise MintError("The royalty takes at most two decimals (basis points)")
    return int(bps)


@dataclass(frozen=True)
class MintPlan:
    asset_id: int
    title: str
    split: tuple[SplitEntry, ...]
    description: str = ""
    collection: str | None = None  # an existing collection you own
    new_collection: tuple[str, str] | None = None  # (name, symbol)
    royalty_percent: Decimal = Decimal("0")
    allow_high_royalty: bool = False
    # A watermark's soft-binding id, recorded on-chain in the ContentMinted event (indexed)
    # so the token can be found from a copy that lost its metadata; None records zero.
    soft_binding_id: bytes | None = None

    def validated(self) -> tuple[int, list[str], list[int]]:
        """(royalty bps, recipients, allocations) or MintError."""
        if not self.title.strip():
            raise MintError("A token needs a title")
        if (self.collection is None) == (self.new_collection is None):
            raise MintError("Choose an existing collection or give a new one's name and symbol")
        if self.new_collection is not None:
            name, symbol = (s.strip() for s in self.new_collection)
            if not name or not symbol:
                raise MintError("A new collection needs a name and a symbol")
            if len(symbol) > 11 or " " in symbol:
                raise MintError("A collection symbol is short and has no spaces (e.g. STUDIO)")
        else:
            check_address(self.collection or "", what="collection address")
        if self.soft_binding_id is not None and not 0 < len(self.soft_binding_id) <= 32:
            raise MintError("A soft-binding id is 1 to 32 bytes")
        bps = royalty_bps(self.royalty_percent, allow_high=self.allow_high_royalty)
        recipients, allocs = allocations(self.split)
        return bps, recipients, allocs


def parse_split_arg(text: str) -> SplitEntry:
    """``ADDR=PERCENT`` or ``ADDR=PERCENT:LABEL`` from the command line."""
    if "=" not in text:
        raise MintError(f"--split {text!r}: write ADDRESS=PERCENT (e.g. 0xAbc…=25)")
    address, rest = text.split("=", 1)
    percent, _, label = rest.partition(":")
    return SplitEntry(address.strip(), parse_percent(percent), label.strip())

