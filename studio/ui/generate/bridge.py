"""Qt plumbing for the Generate section: engine events onto the GUI thread, PIL to QImage."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal
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

