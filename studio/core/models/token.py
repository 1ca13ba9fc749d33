"""The Hugging Face access token (for gated repos) in the one secret store (the OS keyring),
never in a file or on the command line."""

from __future__ import annotations

import contextlib

from studio.core.secrets import SecretStore, SecretStoreError


class TokenError(Exception):
    """The token cannot be stored; the message is meant for the user."""


def _key(endpoint: str) -> str:
    return f"hf-token:{endpoint.strip().rstrip('/')}"


def store_token(endpoint: str, token: str) -> None:
    if not token.strip():
        raise TokenError("The access token is empty.")
    try:
        SecretStore().set(_key(endpoint), token.strip())
    except SecretStoreError as exc:
        raise TokenError(str(exc)) from exc


def load_token(endpoint: str) -> str | None:
    """The stored token, or None (no token, or no usable keyring: public repos still work)."""
    try:
        return SecretStore().get(_key(endpoint))
    except SecretStoreError:
        return None


def delete_token(endpoint: str) -> None:
    with contextlib.suppress(SecretStoreError):
        SecretStore().delete(_key(endpoint))
