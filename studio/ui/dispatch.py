"""Qt glue for the Qt-free services: a dispatcher that runs callables on the GUI thread, and
``connect`` for binding a psygnal event to a widget's slot for as long as the widget lives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal


class _Dispatcher(QObject):
    call = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        app = QCoreApplication.instance()
        if app is not None:
            self.moveToThread(app.thread())
        # Queued always: a callback posted from the GUI thread itself still runs after the
        # current slot returns, as the runner promises.
        self.call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @staticmethod
    def _run(fn: Callable[[], None]) -> None:
        fn()

    def post(self, fn: Callable[[], None]) -> None:
        self.call.emit(fn)


_DISPATCHER: _Dispatcher | None = None


def gui_post() -> Callable[[Callable[[], None]], None]:
    """The GUI thread's ``post`` (one dispatcher per process)."""
    global _DISPATCHER
    if _DISPATCHER is None:
        _DISPATCHER = _Dispatcher()
    return _DISPATCHER.post


def connect(signal: Any, slot: Callable[..., Any], owner: QObject) -> None:
    """Call ``slot`` on every emission of psygnal ``signal`` until ``owner`` is destroyed."""

    def relay(*args: Any) -> None:
        slot(*args)

    signal.connect(relay)
    owner.destroyed.connect(lambda *_: signal.disconnect(relay, missing_ok=True))
