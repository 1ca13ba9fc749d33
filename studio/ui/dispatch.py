"""Qt glue for the Qt-free services: a dispatcher that runs callables on the GUI thread, and
``connect`` for binding a psygnal event to a widget's slot for as long as the widget lives."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject

_KIND: QEvent.Type | None = None


class _CallEvent(QEvent):
    """Carries one callable to the dispatcher. A posted event rather than a queued signal:
    a queued connection needs ``Qt.ConnectionType``, and the first touch of the ``Qt``
    namespace builds its 93 Python enums (~40 ms) before the window's first paint. The event
    type is registered on the first post for the same reason (``QEvent.Type`` is a large
    enum); two threads racing there register two types, which is harmless (``isinstance``
    tells the events apart)."""

    def __init__(self, fn: Callable[[], None]) -> None:
        global _KIND
        if _KIND is None:
            _KIND = QEvent.Type(QEvent.registerEventType())
        super().__init__(_KIND)
        self.fn = fn


class _Dispatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        app = QCoreApplication.instance()
        if app is not None:
            self.moveToThread(app.thread())

    def event(self, event: QEvent) -> bool:
        if isinstance(event, _CallEvent):
            try:
                event.fn()
            except Exception:  # as an exception in a slot: to the app's excepthook
                sys.excepthook(*sys.exc_info())
            return True
        return super().event(event)

    def post(self, fn: Callable[[], None]) -> None:
        # Posted always, from any thread: a callback posted from the GUI thread itself still
        # runs after the current slot returns, as the runner promises; FIFO per receiver.
        QCoreApplication.postEvent(self, _CallEvent(fn))


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
