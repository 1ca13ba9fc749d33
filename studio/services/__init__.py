"""Services: the Qt-free composition root shared by the CLI and the window (see
docs/architecture.md, "State flow")."""

from studio.services.events import StudioEvents
from studio.services.runner import Operation, OperationCancelled, OperationRunner
from studio.services.studio import Studio

__all__ = ["Operation", "OperationCancelled", "OperationRunner", "Studio", "StudioEvents"]
