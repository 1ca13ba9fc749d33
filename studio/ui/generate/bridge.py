"""Qt plumbing for the Generate section: engine events onto the GUI thread, and background
tasks (hashing a model, building the demo model) with success/failure signals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

log = logging.getLogger(__name__)


class EngineBridge(QObject):
    """Re-emits engine events (sent from the worker thread) as a Qt signal; Qt queues the
    delivery onto the thread this object lives in (the GUI thread)."""

    event = Signal(object)

    def __call__(self, ev: Any) -> None:
        self.event.emit(ev)


def pil_to_qimage(img: Any) -> QImage:
    rgb = img.convert("RGB")
    data = rgb.tobytes()
    return QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888).copy()


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(str)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: _Signals) -> None:
        super().__init__()
        self.fn = fn
        self.signals = signals

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # shown to the user; the message is meant for them
            log.warning("background task failed: %s", exc)
            self.signals.failed.emit(str(exc))
        else:
            self.signals.done.emit(result)


def run_in_background(parent: QObject, fn: Callable[[], Any], on_done: Callable[[Any], None],
                      on_failed: Callable[[str], None]) -> None:
    """Run ``fn`` on the global thread pool; the callbacks run on the GUI thread."""
    signals = _Signals(parent)
    signals.done.connect(on_done)
    signals.failed.connect(on_failed)
    signals.done.connect(signals.deleteLater)
    signals.failed.connect(signals.deleteLater)
    QThreadPool.globalInstance().start(_Task(fn, signals))
