"""Wallet: accounts whose secrets live only in the OS keyring (see :mod:`.service`).

Importing this package is cheap; eth-account and keyring load on first use.
"""

from studio.core.wallet.errors import (
    AccountNotFoundError,
    InvalidSecretError,
    KeyringLockedError,
    KeyringUnavailableError,
    WalletError,
    WrongPasswordError,
)

__all__ = [
    "AccountNotFoundError",
    "InvalidSecretError",
    "KeyringLockedError",
    "KeyringUnavailableError",
    "WalletError",
    "WrongPasswordError",
]
