"""The Generate canvas: a viewer that scales with the window (fit, 100 %, zoom about the
cursor, pan), the painted mask over the source, the outpaint frame, and compare (a slider or
side by side). The mask lives in the workspace view-model; the canvas only turns mouse strokes
into its ``paint`` calls and draws it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from studio.ui.drop import local_paths

ASSET_MIME = "application/x-studio-asset-id"
MIN_ZOOM, MAX_ZOOM = 0.05, 32.0


def mask_overlay(mask: Any) -> QImage:
    """A translucent red QImage where the PIL ``L`` mask is set."""
    from PIL import Image

    alpha = mask.point(lambda v: v * 140 // 255)
    red = Image.new("L", mask.size, 230)
    zero = Image.new("L", mask.size, 40)
    rgba = Image.merge("RGBA", (red, zero, zero, alpha))
    data = rgba.tobytes()
    return QImage(data, rgba.width, rgba.height, 4 * rgba.width,
                  QImage.Format.Format_RGBA8888).copy()


class CanvasView(QWidget):
    """Public API (used by the section and by tests): :meth:`set_image`, :meth:`pixmap`,
    :meth:`fit`, :meth:`actual_size`, :meth:`zoom_by`, :meth:`set_mask_model`,
    :meth:`set_painting`, :meth:`paint_stroke`, :meth:`set_margins`, :meth:`set_compare`."""

    dropped = Signal(object)  # list[Path] of files, or int (a library asset id)
    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 200)
        self.setAcceptDrops(True)
        self.setProperty("ownsFileDrops", True)  # the window's import-on-drop leaves us be
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._image: QImage | None = None
        self._pixmap: QPixmap | None = None
        self.placeholder = "Drop an image here, or generate one."
        self._zoom: float | None = None  # None: fit to the window
        self._pan = QPointF(0, 0)
        self._mask_model: Any = None
        self._overlay: QImage | None = None
        self._painting = False
        self._stroke: list[tuple[float, float]] | None = None
        self._drag_from: QPointF | None = None
        self._cursor: QPointF | None = None
        self._margins = (0, 0, 0, 0)
        self._compare: QImage | None = None
        self.compare_mode = "off"  # off | slider | side
        self.split = 0.5
        self._captions = ("", "")

    # -- content ----------------------------------------------------------------------------

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self._pixmap = QPixmap.fromImage(image) if image is not None else None
        self.update()

    def image(self) -> QImage | None:
        return self._image

    def pixmap(self) -> QPixmap | None:
        return self._pixmap

    def set_mask_model(self, model: Any) -> None:
        self._mask_model = model
        model.changed.connect(self._mask_changed)
        self._mask_changed()

    def _mask_changed(self) -> None:
        mask = getattr(self._mask_model, "image", None)
        self._overlay = mask_overlay(mask) if mask is not None else None
        self.update()

    def set_painting(self, on: bool) -> None:
        """Whether left-drag paints the mask (inpaint mode)."""
        self._painting = on
        self.setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)
        self.update()

    @property
    def painting(self) -> bool:
        return self._painting

    def set_margins(self, margins: tuple[int, int, int, int]) -> None:
        self._margins = margins
        self.update()

    def set_compare(self, other: QImage | None, mode: str = "slider",
                    captions: tuple[str, str] = ("", "")) -> None:
        self._compare = other
        self._captions = captions
        self.compare_mode = mode if other is not None else "off"
        self.update()

    # -- view -------------------------------------------------------------------------------

    def _fit_scale(self) -> float:
        if self._image is None:
            return 1.0
        w, h = self._content_size()
        return max(MIN_ZOOM, min((self.width() - 16) / w, (self.height() - 16) / h))

    def _content_size(self) -> tuple[int, int]:
        assert self._image is not None
        left, top, right, bottom = self._margins
        return self._image.width() + left + right, self._image.height() + top + bottom

    def scale(self) -> float:
        return self._fit_scale() if self._zoom is None else self._zoom

    def fit(self) -> None:
        self._zoom, self._pan = None, QPointF(0, 0)
        self.zoom_changed.emit(self.scale())
        self.update()

    def actual_size(self) -> None:
        self._zoom, self._pan = 1.0, QPointF(0, 0)
        self.zoom_changed.emit(1.0)
        self.update()

    def zoom_by(self, factor: float, around: QPointF | None = None) -> None:
        if self._image is None:
            return
        old = self.scale()
        new = max(MIN_ZOOM, min(MAX_ZOOM, old * factor))
        if around is not None:  # keep the image point under the cursor in place
            img = self.to_image(around)
            self._zoom = new
            after = self.to_widget(img)
            self._pan += around - after
        else:
            self._zoom = new
        self.zoom_changed.emit(new)
        self.update()

    def _origin(self) -> QPointF:
        """Widget position of the source image's top-left pixel."""
        s = self.scale()
        w, h = self._content_size()
        left, top = self._margins[0], self._margins[1]
        return QPointF((self.width() - w * s) / 2 + left * s,
                       (self.height() - h * s) / 2 + top * s) + self._pan

    def to_image(self, p: QPointF) -> QPointF:
        return (p - self._origin()) / self.scale()

    def to_widget(self, p: QPointF) -> QPointF:
        return self._origin() + p * self.scale()

    def sizeHint(self) -> QSize:
        return QSize(640, 520)

    # -- painting the mask ------------------------------------------------------------------

    def paint_stroke(self, points: list[tuple[float, float]], erase: bool = False) -> None:
        """Paint (or erase) one stroke through ``points`` in image pixels: what a mouse drag
        does, for scripts and tests."""
        if self._mask_model is not None:
            self._mask_model.paint(points, erase=erase)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if event.button() == Qt.MouseButton.MiddleButton or (
                event.button() == Qt.MouseButton.LeftButton and not self._painting
                and self.compare_mode != "slider"):
            self._drag_from = pos
        elif event.button() == Qt.MouseButton.LeftButton and self.compare_mode == "slider":
            self._move_split(pos)
        elif self._painting and self._mask_model is not None and event.button() in (
                Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            p = self.to_image(pos)
            self._stroke = [(p.x(), p.y())]
            self._erase = event.button() == Qt.MouseButton.RightButton or \
                self._mask_model.erasing
            self._mask_model.begin_stroke()
            self._mask_model.extend_stroke(self._stroke, erase=self._erase)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        self._cursor = pos
        if self._drag_from is not None:
            self._pan += pos - self._drag_from
            self._drag_from = pos
        elif self._stroke is not None and self._mask_model is not None:
            p = self.to_image(pos)
            last = self._stroke[-1]
            self._stroke.append((p.x(), p.y()))
            self._mask_model.extend_stroke([last, (p.x(), p.y())], erase=self._erase)
        elif self.compare_mode == "slider" and event.buttons() & Qt.MouseButton.LeftButton:
            self._move_split(pos)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag_from = None
        self._stroke = None

    def _move_split(self, pos: QPointF) -> None:
        if self._image is None:
            return
        x = self.to_image(pos).x() / max(1, self._image.width())
        self.split = min(1.0, max(0.0, x))
        self.update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(1.25 ** steps, event.position())

    def leaveEvent(self, event: Any) -> None:
        self._cursor = None
        self.update()

    # -- drops ------------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasFormat(ASSET_MIME) or local_paths(mime):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: Any) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        if mime.hasFormat(ASSET_MIME):
            event.acceptProposedAction()
            self.dropped.emit(int(bytes(mime.data(ASSET_MIME)).decode()))
            return
        paths = [Path(p) for p in local_paths(mime)]
        if paths:
            event.acceptProposedAction()
            self.dropped.emit(paths)

    # -- drawing ----------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(self.backgroundRole()).darker(108))
        if self._pixmap is None:
            painter.setPen(self.palette().color(self.foregroundRole()))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.scale() < 1)
        s = self.scale()
        o = self._origin()
        w, h = self._pixmap.width() * s, self._pixmap.height() * s
        if self.compare_mode == "side" and self._compare is not None:
            self._paint_side_by_side(painter)
            return
        target = QRectF(o.x(), o.y(), w, h)
        if any(self._margins):  # the outpaint frame: where the new area goes
            left, top, right, bottom = self._margins
            frame = QRectF(o.x() - left * s, o.y() - top * s, w + (left + right) * s,
                           h + (top + bottom) * s)
            painter.fillRect(frame, QColor(120, 160, 255, 50))
            painter.setPen(QPen(QColor(90, 140, 255), 2, Qt.PenStyle.DashLine))
            painter.drawRect(frame)
        painter.drawPixmap(target, self._pixmap, QRectF(self._pixmap.rect()))
        if self.compare_mode == "slider" and self._compare is not None:
            split_x = o.x() + w * self.split
            painter.save()
            painter.setClipRect(QRectF(split_x, o.y(), w - w * self.split, h))
            painter.drawImage(target, self._compare, QRectF(self._compare.rect()))
            painter.restore()
            painter.setPen(QPen(QColor(255, 255, 255), 2))
            painter.drawLine(QPointF(split_x, o.y()), QPointF(split_x, o.y() + h))
        if self._overlay is not None and self._painting:
            painter.drawImage(target, self._overlay, QRectF(self._overlay.rect()))
        if self._painting and self._cursor is not None and self._mask_model is not None:
            r = self._mask_model.brush * s / 2
            painter.setPen(QPen(QColor(255, 255, 255, 200), 1))
            painter.drawEllipse(self._cursor, r, r)

    def _paint_side_by_side(self, painter: QPainter) -> None:
        assert self._image is not None and self._compare is not None
        half = self.width() / 2
        for i, img in enumerate((self._image, self._compare)):
            s = min((half - 12) / img.width(), (self.height() - 40) / img.height())
            w, h = img.width() * s, img.height() * s
            x = i * half + (half - w) / 2
            top = (self.height() - h) / 2
            painter.drawImage(QRectF(x, top, w, h), img, QRectF(img.rect()))
            caption = f"{self._captions[i]} · {img.width()}×{img.height()}".strip(" ·")
            painter.setPen(self.palette().color(self.foregroundRole()))
            painter.drawText(QRectF(i * half, top - 24, half, 20),
                             Qt.AlignmentFlag.AlignCenter, caption)
