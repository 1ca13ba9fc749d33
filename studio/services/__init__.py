"""Services: the Qt-free composition root shared by the CLI and the window (see
docs/architecture.md, "State flow").

The names below load on first access (PEP 562): the window imports ``studio.services.studio``
before its first paint, and psygnal (which imports ``importlib.metadata``, ~60 ms) must wait
until an event hub or the runner is first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "Operation": "studio.services.runner",
    "OperationCancelled": "studio.services.runner",
    "OperationRunner": "studio.services.runner",
    "Studio": "studio.services.studio",
    "StudioEvents": "studio.services.events",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
