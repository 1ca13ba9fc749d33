"""Qt glue for the Qt-free services: a dispatcher that runs callables on the GUI thread, and
``connect`` for binding a psygnal event to a widget's slot for as long as the widget lives."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject

_MAKE_EVENT: Callable[[Callable[[], None]], Any] | None = None
_MAKE_EVENT_LOCK = threading.Lock()


def _make_event(fn: Callable[[], None]) -> Any:
    """A QEvent carrying ``fn``. A posted event rather than a queued signal: a queued connection
    needs ``Qt.ConnectionType``, and the first touch of the ``Qt`` namespace builds its 93
    Python enums (~40 ms). The event class and its type number are made on the first post,
    after the window's first paint: the ``QEvent`` Python type builds ``QEvent.Type`` (179
    members, ~5 ms)."""
    global _MAKE_EVENT
    if _MAKE_EVENT is None:
        with _MAKE_EVENT_LOCK:
            if _MAKE_EVENT is None:
                from PySide6.QtCore import QEvent

                kind = QEvent.Type(QEvent.registerEventType())

                class CallEvent(QEvent):
                    def __init__(self, call: Callable[[], None]) -> None:
                        super().__init__(kind)
                        self.fn = call

                _MAKE_EVENT = CallEvent
    return _MAKE_EVENT(fn)


class _Dispatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        app = QCoreApplication.instance()
        # Made on the GUI (main) thread in practice; moved there otherwise. Asking Qt which
        # thread this is would make the QThread Python type and its enums before the paint.
        if app is not None and threading.current_thread() is not threading.main_thread():
            self.moveToThread(app.thread())

    def customEvent(self, event: Any) -> None:
        # Only events of a registered (user) type reach here: ours. ``event`` is the very
        # object posted, so it still carries its callable.
        fn = getattr(event, "fn", None)
        if fn is None:
            return
        try:
            fn()
        except Exception:  # as an exception in a slot: to the app's excepthook
            sys.excepthook(*sys.exc_info())

    def post(self, fn: Callable[[], None]) -> None:
        # Posted always, from any thread: a callback posted from the GUI thread itself still
        # runs after the current slot returns, as the runner promises; FIFO per receiver.
        QCoreApplication.postEvent(self, _make_event(fn))


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
