"""Typed errors to the one way the app shows them: a short title and a plain message."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorView:
    title: str
    message: str
    retry_hint: str = ""


def describe_error(exc: BaseException) -> ErrorView:
    """``exc`` as the user sees it. Matched by type name and module, so nothing heavy loads."""
    from studio.core.secrets import SecretsLockedError, SecretStoreError
    from studio.services.runner import OperationCancelled

    message = str(exc) or type(exc).__name__
    if isinstance(exc, OperationCancelled):
        return ErrorView("Cancelled", message)
    if isinstance(exc, SecretsLockedError) or type(exc).__name__ == "KeyringLockedError":
        return ErrorView("Keyring locked", message, "Unlock your keyring and try again.")
    if isinstance(exc, SecretStoreError):
        return ErrorView("Keyring", message)
    module = type(exc).__module__ or ""
    for prefix, title in (("studio.core.wallet", "Wallet"), ("studio.core.chain", "Chain"),
                          ("studio.core.provenance", "Content credentials"),
                          ("studio.core.generation", "Generation"),
                          ("studio.core.importing", "Import"),
                          ("studio.core.publish", "Publish"), ("studio.core.library", "Library")):
        if module.startswith(prefix):
            return ErrorView(title, message)
    if isinstance(exc, OSError):
        return ErrorView("File error", message)
    return ErrorView("Something went wrong", message)
