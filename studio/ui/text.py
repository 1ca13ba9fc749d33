"""Small text formats shared by several widgets (no Qt import: cheap at start)."""

from __future__ import annotations

from studio.core.settings import WalletAccount


def short_address(address: str, head: int = 6, tail: int = 4) -> str:
    """``0xf39F…2266``: the start and end of an address, whole when it is short anyway."""
    return f"{address[:head]}…{address[-tail:]}" if len(address) > head + tail + 2 else address


def account_status(account: WalletAccount | None) -> str:
    """The status bar's account field."""
    if account is None:
        return "Account: none"
    return f"Account: {account.label} ({short_address(account.address)})"
