"""User-facing generation errors: every message says what went wrong and what to do."""

from __future__ import annotations


class GenerationError(Exception):
    """Base class; ``str(exc)`` is meant for the user."""


class ModelError(GenerationError):
    """A model cannot be added or loaded (missing, broken, truncated, unknown family)."""


class RequestError(GenerationError):
    """A generation request has invalid settings."""
