"""Wallet errors. Every message is meant for the user and never contains a secret."""

from __future__ import annotations

import sys


class WalletError(Exception):
    """A wallet operation failed; ``str(exc)`` says why in plain language."""


class KeyringUnavailableError(WalletError):
    """No usable OS keyring backend: nothing can be stored (there is no plaintext fallback)."""


class KeyringLockedError(WalletError):
    """The keyring is locked or access was denied; unlocking and retrying may work."""


class InvalidSecretError(WalletError):
    """A key, recovery phrase or keystore the user supplied is not valid."""


class WrongPasswordError(InvalidSecretError):
    """The keystore password does not open the keystore."""


class AccountNotFoundError(WalletError):
    """No account with that address is in the wallet."""


def how_to_enable_keyring(platform: str | None = None) -> str:
    """Advice for making an OS keyring available on ``platform`` (default: this one)."""
    platform = platform or sys.platform
    if platform.startswith("linux") or "bsd" in platform:
        return ("Install and start a Secret Service provider: GNOME Keyring "
                "(e.g. `sudo apt install gnome-keyring`) or KWallet, log in to a desktop "
                "session that unlocks it, and make sure the Python package SecretStorage is "
                "installed. Then try again.")
    if platform == "darwin":
        return ("The macOS Keychain should always be available; check that you are logged in "
                "to a normal user session (not over SSH without a GUI) and try again.")
    if platform.startswith("win"):
        return ("The Windows Credential Locker should always be available; check that you are "
                "logged in as a normal user (Credential Manager must be running) and try again.")
    return "Install a keyring backend supported by the Python `keyring` package and try again."


def unavailable_message(detail: str = "") -> str:
    reason = f" ({detail})" if detail else ""
    return ("No usable OS keyring was found" + reason + ". The wallet keeps keys only in your "
            "operating system's keyring and never in a plain file, so nothing was stored. "
            + how_to_enable_keyring())
