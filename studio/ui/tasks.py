"""Run a blocking function on the app's one operation runner and get its result back on the
GUI thread, as long as ``parent`` still exists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from shiboken6 import isValid

from studio.services.runner import Operation, OperationRunner


def run_in_background(runner: OperationRunner, fn: Callable[[], Any],
                      on_done: Callable[[Any], None], on_failed: Callable[[str], None],
                      parent: QObject, label: str = "") -> Operation[Any]:
    """``on_done(result)`` or ``on_failed(message)`` runs later on the GUI thread."""

    def alive(callback: Callable[[Any], None]) -> Callable[[Any], None]:
        return lambda value: callback(value) if isValid(parent) else None

    op = runner.run(fn, label=label)
    op.success(alive(on_done)).failure(alive(lambda exc: on_failed(str(exc) or
                                                                 type(exc).__name__)))
    return op.start()
