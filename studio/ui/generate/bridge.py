"""Qt plumbing for the Generate section: PIL images to QImage (engine events reach the GUI
thread through the generation view-model)."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtGui import QImage

log = logging.getLogger(__name__)


def pil_to_qimage(img: Any) -> QImage:
    rgb = img.convert("RGB")
    data = rgb.tobytes()
    return QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888).copy()

