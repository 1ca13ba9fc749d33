"""The OS keyring, through ``keyring``: the only place a wallet secret is ever stored.

Entries live under service ``provenance-studio`` (``STUDIO_KEYRING_SERVICE`` overrides it, so
tests and parallel installs never touch a user's real entries), username = checksummed address.
A value is a small JSON object, well under the Windows Credential Locker's 2560-byte limit:
``{"v": 1, "key": "0x…"}`` for a key, or ``{"v": 1, "mnemonic": "…", "path": "m/…"}`` for an
account derived from a recovery phrase (kept so further accounts can be derived from it later).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from studio.core.secrets import (
    SERVICE,
    SERVICE_ENV,
    SecretsLockedError,
    SecretStore,
    SecretStoreError,
    SecretsUnavailableError,
    backend_problem,
)
from studio.core.wallet.errors import (
    KeyringLockedError,
    KeyringUnavailableError,
    WalletError,
    unavailable_message,
)

__all__ = ["MAX_VALUE_BYTES", "SERVICE", "SERVICE_ENV", "KeyringVault", "StoredSecret",
           "backend_problem"]
MAX_VALUE_BYTES = 2560  # Windows Credential Locker's limit


@dataclass(frozen=True, repr=False)
class StoredSecret:
    """A secret as kept in the keyring. ``repr`` hides it so it never lands in a log."""

    key: str = ""  # 0x-prefixed hex private key
    mnemonic: str = ""
    path: str = ""

    def __repr__(self) -> str:
        kind = "mnemonic" if self.mnemonic else "key"
        return f"StoredSecret({kind}, path={self.path!r})"

    def encode(self) -> str:
        data: dict[str, Any] = {"v": 1}
        if self.mnemonic:
            data.update(mnemonic=self.mnemonic, path=self.path)
        else:
            data["key"] = self.key
        text = json.dumps(data, separators=(",", ":"))
        if len(text.encode("utf-8")) > MAX_VALUE_BYTES:
            raise WalletError("This secret is too large for the OS keyring.")
        return text

    @classmethod
    def decode(cls, text: str) -> StoredSecret:
        try:
            data = json.loads(text)
            if data.get("mnemonic"):
                return cls(mnemonic=str(data["mnemonic"]), path=str(data["path"]))
            return cls(key=str(data["key"]))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WalletError("The keyring entry for this account is damaged "
                              "(it was not written by Provenance Studio).") from exc


class KeyringVault:
    """Reads and writes wallet secrets through the one :class:`SecretStore`; every keyring
    failure becomes a :class:`WalletError`."""

    def __init__(self, backend: Any = None, service: str | None = None) -> None:
        self.store = SecretStore(backend, service)
        self.service = self.store.service

    @property
    def backend(self) -> Any:
        with _translated():
            return self.store.backend

    def check(self) -> None:
        """Raise :class:`KeyringUnavailableError` unless a real keyring backend is present."""
        problem = self.store.problem()
        if problem:
            raise KeyringUnavailableError(unavailable_message(problem))

    def get(self, address: str) -> StoredSecret | None:
        self.check()
        with _translated():
            text = self.store.get(address)
        return None if text is None else StoredSecret.decode(text)

    def put(self, address: str, secret: StoredSecret) -> None:
        self.check()
        value = secret.encode()
        with _translated():
            self.store.set(address, value)

    def delete(self, address: str) -> bool:
        """Delete the entry; False when there was none."""
        self.check()
        with _translated():
            return self.store.delete(address)


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """The secret store's errors, worded for the wallet."""
    try:
        yield
    except SecretsUnavailableError as exc:
        raise KeyringUnavailableError(unavailable_message(exc.detail)) from exc
    except SecretsLockedError as exc:
        raise KeyringLockedError(str(exc)) from exc
    except SecretStoreError as exc:
        raise WalletError(str(exc)) from exc
