"""Thumbnails made and read off the GUI thread, cached on disk by sha256 and in memory (LRU)."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

from studio.core.importing import ThumbnailCache

ICON_SIZE = QSize(160, 160)
MEMORY_ITEMS = 600  # about 100 kB each at 160 px


class _Signals(QObject):
    loaded = Signal(str, QImage)


class _Load(QRunnable):
    def __init__(self, cache: ThumbnailCache, sha256: str, media: Path, signals: _Signals):
        super().__init__()
        self.cache, self.sha256, self.media, self.signals = cache, sha256, media, signals

    def run(self) -> None:
        image = QImage()
        try:
            path = self.cache.ensure(self.sha256, self.media)
            image = QImage(str(path))
        except OSError:
            pass  # an empty image: the view keeps its placeholder
        if not image.isNull():
            image = image.scaled(ICON_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        self.signals.loaded.emit(self.sha256, image)


class ThumbnailLoader(QObject):
    """``request`` starts a load once per sha; ``loaded(sha)`` fires when ``pixmap`` has it."""

    loaded = Signal(str)

    def __init__(self, cache: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cache = cache
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._signals = _Signals(self)
        self._signals.loaded.connect(self._on_loaded)
        self._pending: set[str] = set()
        self._failed: set[str] = set()
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()

    def pixmap(self, sha256: str) -> QPixmap | None:
        pix = self._pixmaps.get(sha256)
        if pix is not None:
            self._pixmaps.move_to_end(sha256)
        return pix

    def request(self, sha256: str, media: Path) -> None:
        if sha256 in self._pending or sha256 in self._pixmaps or sha256 in self._failed:
            return
        self._pending.add(sha256)
        self._pool.start(_Load(self.cache, sha256, media, self._signals))

    def forget(self, sha256: str) -> None:
        self._pixmaps.pop(sha256, None)
        self._failed.discard(sha256)

    def wait_idle(self, msecs: int = 30_000) -> bool:
        return self._pool.waitForDone(msecs)

    def _on_loaded(self, sha256: str, image: QImage) -> None:
        self._pending.discard(sha256)
        if image.isNull():
            self._failed.add(sha256)
            return
        self._pixmaps[sha256] = QPixmap.fromImage(image)
        while len(self._pixmaps) > MEMORY_ITEMS:
            self._pixmaps.popitem(last=False)
        self.loaded.emit(sha256)
