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
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from studio.core.wallet.errors import (
    KeyringLockedError,
    KeyringUnavailableError,
    WalletError,
    unavailable_message,
)

SERVICE = "provenance-studio"
SERVICE_ENV = "STUDIO_KEYRING_SERVICE"
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


def backend_problem(backend: Any) -> str | None:
    """Why ``backend`` cannot hold wallet secrets, or None when it can."""
    from keyring.backends import chainer, fail, null

    if isinstance(backend, fail.Keyring | null.Keyring):
        return "keyring reports no backend"
    if isinstance(backend, chainer.ChainerBackend):
        usable = [b for b in backend.backends if backend_problem(b) is None]
        return None if usable else "no keyring backend is available to chain"
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if "plaintext" in name.lower() or name.startswith("keyrings.alt.file.PlaintextKeyring"):
        return f"{name} stores secrets in plain text, which the studio refuses"
    return None


class KeyringVault:
    """Reads and writes wallet secrets; every keyring failure becomes a :class:`WalletError`."""

    def __init__(self, backend: Any = None, service: str | None = None) -> None:
        self._backend = backend
        self.service = service or os.environ.get(SERVICE_ENV) or SERVICE

    @property
    def backend(self) -> Any:
        if self._backend is not None:
            return self._backend
        import keyring

        return keyring.get_keyring()

    def check(self) -> None:
        """Raise :class:`KeyringUnavailableError` unless a real keyring backend is present."""
        problem = backend_problem(self.backend)
        if problem:
            raise KeyringUnavailableError(unavailable_message(problem))

    def get(self, address: str) -> StoredSecret | None:
        self.check()
        with _translated("read"):
            text = self.backend.get_password(self.service, address)
        return None if text is None else StoredSecret.decode(text)

    def put(self, address: str, secret: StoredSecret) -> None:
        self.check()
        value = secret.encode()
        with _translated("store"):
            self.backend.set_password(self.service, address, value)

    def delete(self, address: str) -> bool:
        """Delete the entry; False when there was none."""
        from keyring.errors import PasswordDeleteError

        self.check()
        try:
            with _translated("delete"):
                self.backend.delete_password(self.service, address)
        except WalletError as exc:
            if isinstance(exc.__cause__, PasswordDeleteError):
                return False
            raise
        return True


@contextlib.contextmanager
def _translated(action: str) -> Iterator[None]:
    """Turn keyring/SecretStorage exceptions into user-facing wallet errors."""
    from keyring import errors as kerr

    retry = " Unlock your keyring (or allow access when asked) and try again."
    try:
        yield
    except kerr.NoKeyringError as exc:
        raise KeyringUnavailableError(unavailable_message("keyring reports no backend")) from exc
    except kerr.KeyringLocked as exc:
        raise KeyringLockedError(f"The keyring is locked or access was denied, so the secret "
                                 f"could not be {_past(action)}.{retry}") from exc
    except kerr.InitError as exc:
        raise KeyringLockedError(f"The keyring could not be opened ({exc}).{retry}") from exc
    except kerr.PasswordDeleteError as exc:
        raise WalletError("The keyring has no entry for this account.") from exc
    except kerr.KeyringError as exc:
        raise WalletError(f"The keyring refused to {action} the secret ({exc}).") from exc
    except Exception as exc:
        # SecretStorage (and its D-Bus layer, jeepney) raise their own exceptions, which keyring
        # does not always wrap; matched by module so that nothing is imported here.
        module = type(exc).__module__ or ""
        if not module.startswith(("secretstorage", "jeepney", "dbus")):
            raise
        if type(exc).__name__ in ("LockedException", "PromptDismissedException"):
            raise KeyringLockedError(f"The keyring is locked or the unlock prompt was "
                                     f"dismissed.{retry}") from exc
        raise KeyringLockedError(f"The keyring service failed ({type(exc).__name__}: {exc})."
                                 f"{retry}") from exc


def _past(action: str) -> str:
    return {"read": "read", "store": "stored", "delete": "deleted"}.get(action, action)
