"""The Hugging Face access token (for gated repos) in the OS keyring, never in a file."""

from __future__ import annotations

import contextlib
import os

KEYRING_SERVICE = "provenance-studio"
SERVICE_ENV = "STUDIO_KEYRING_SERVICE"


class TokenError(Exception):
    """The token cannot be stored or read; the message is meant for the user."""


def _service() -> str:
    return os.environ.get(SERVICE_ENV) or KEYRING_SERVICE


def _key(endpoint: str) -> str:
    return f"hf-token:{endpoint.strip().rstrip('/')}"


def _usable_keyring():
    import keyring

    from studio.core.wallet.vault import backend_problem

    problem = backend_problem(keyring.get_keyring())
    if problem:
        raise TokenError(f"No usable OS keyring ({problem}); the token is never written to a "
                         "plain file, so it was not saved.")
    return keyring


def store_token(endpoint: str, token: str) -> None:
    import keyring.errors

    if not token.strip():
        raise TokenError("The access token is empty.")
    try:
        _usable_keyring().set_password(_service(), _key(endpoint), token.strip())
    except keyring.errors.KeyringError as exc:
        raise TokenError(f"The OS keyring is not available ({exc}); the token was not "
                         "saved.") from exc


def load_token(endpoint: str) -> str | None:
    import keyring.errors

    try:
        return _usable_keyring().get_password(_service(), _key(endpoint))
    except TokenError:
        return None  # no keyring: downloads of public repos still work
    except keyring.errors.KeyringError:
        return None


def delete_token(endpoint: str) -> None:
    import keyring.errors

    with contextlib.suppress(keyring.errors.PasswordDeleteError, TokenError):
        _usable_keyring().delete_password(_service(), _key(endpoint))
