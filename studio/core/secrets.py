"""The one secret store: every secret the studio keeps (wallet keys, signing-identity keys, RPC
URLs with API keys, publish tokens) goes through :class:`SecretStore`, over the OS keyring.

One policy for all of them: a missing backend, a null/fail backend or one that writes plain files
is refused with :class:`SecretsUnavailableError` (there is no plaintext fallback), and one service
name, ``provenance-studio``, overridden by ``STUDIO_KEYRING_SERVICE`` (tests and parallel installs
never touch a user's real entries). Domains turn these errors into their own wording.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

SERVICE = "provenance-studio"
SERVICE_ENV = "STUDIO_KEYRING_SERVICE"


class SecretStoreError(Exception):
    """The keyring refused an operation; ``str(exc)`` is for the user and holds no secret."""


class SecretsUnavailableError(SecretStoreError):
    """No usable OS keyring backend (missing, null, or one that stores plain text)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"No usable OS keyring was found ({detail}). Secrets are kept only in "
                         "your operating system's keyring, never in a plain file, so nothing "
                         "was stored.")
        self.detail = detail


class SecretsLockedError(SecretStoreError):
    """The keyring is locked or access was denied; unlocking and retrying may work."""


def service_name(service: str | None = None) -> str:
    return service or os.environ.get(SERVICE_ENV) or SERVICE


def backend_problem(backend: Any) -> str | None:
    """Why ``backend`` cannot hold secrets, or None when it can."""
    from keyring.backends import chainer, fail, null

    if isinstance(backend, fail.Keyring | null.Keyring):
        return "keyring reports no backend"
    if isinstance(backend, chainer.ChainerBackend):
        usable = [b for b in backend.backends if backend_problem(b) is None]
        return None if usable else "no keyring backend is available to chain"
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if "plaintext" in name.lower():
        return f"{name} stores secrets in plain text, which the studio refuses"
    if name.startswith("keyrings.alt"):
        # keyrings.alt keeps secrets in files next to the user's data: not an OS keyring.
        return f"{name} stores secrets in files, not an OS keyring, which the studio refuses"
    return None


class SecretStore:
    """Reads and writes string secrets under one keyring service."""

    def __init__(self, backend: Any = None, service: str | None = None) -> None:
        self._backend = backend
        self.service = service_name(service)

    @property
    def backend(self) -> Any:
        if self._backend is not None:
            return self._backend
        import keyring

        try:
            return keyring.get_keyring()
        except Exception as exc:  # a broken keyring config: no backend at all
            raise SecretsUnavailableError(f"the keyring could not be loaded: {exc}") from exc

    def problem(self) -> str | None:
        try:
            return backend_problem(self.backend)
        except SecretsUnavailableError as exc:
            return exc.detail

    def check(self) -> None:
        """Raise :class:`SecretsUnavailableError` unless a real OS keyring backend is present."""
        problem = self.problem()
        if problem:
            raise SecretsUnavailableError(problem)

    def get(self, key: str) -> str | None:
        self.check()
        with translated("read"):
            return self.backend.get_password(self.service, key)

    def set(self, key: str, value: str) -> None:
        self.check()
        with translated("store"):
            self.backend.set_password(self.service, key, value)

    def delete(self, key: str) -> bool:
        """Delete the entry; False when there was none."""
        from keyring.errors import PasswordDeleteError

        self.check()
        try:
            self.backend.delete_password(self.service, key)
        except PasswordDeleteError:
            return False
        except Exception:
            with translated("delete"):
                raise
        return True


_RETRY = " Unlock your keyring (or allow access when asked) and try again."


@contextlib.contextmanager
def translated(action: str) -> Iterator[None]:
    """Turn keyring/SecretStorage exceptions into :class:`SecretStoreError`s."""
    from keyring import errors as kerr

    try:
        yield
    except kerr.NoKeyringError as exc:
        raise SecretsUnavailableError("keyring reports no backend") from exc
    except kerr.KeyringLocked as exc:
        raise SecretsLockedError(f"The keyring is locked or access was denied, so the secret "
                                 f"could not be {_past(action)}.{_RETRY}") from exc
    except kerr.InitError as exc:
        raise SecretsLockedError(f"The keyring could not be opened ({exc}).{_RETRY}") from exc
    except kerr.PasswordDeleteError as exc:
        raise SecretStoreError("The keyring has no such entry.") from exc
    except kerr.KeyringError as exc:
        raise SecretStoreError(f"The keyring refused to {action} the secret ({exc}).") from exc
    except Exception as exc:
        # SecretStorage (and its D-Bus layer, jeepney) raise their own exceptions, which keyring
        # does not always wrap; matched by module so that nothing is imported here.
        module = type(exc).__module__ or ""
        if not module.startswith(("secretstorage", "jeepney", "dbus")):
            raise
        if type(exc).__name__ in ("LockedException", "PromptDismissedException"):
            raise SecretsLockedError(f"The keyring is locked or the unlock prompt was "
                                     f"dismissed.{_RETRY}") from exc
        raise SecretsLockedError(f"The keyring service failed ({type(exc).__name__}: {exc})."
                                 f"{_RETRY}") from exc


def _past(action: str) -> str:
    return {"read": "read", "store": "stored", "delete": "deleted"}.get(action, action)
