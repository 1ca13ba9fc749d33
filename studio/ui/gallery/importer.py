"""Runs imports as operations of the app's runner (a pool thread), with a progress dialog
(cancel) and a summary at the end.

One controller per window context: the window's drop, paste and File > Import and the Library
section all go through it, so there is one queue and one progress dialog.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog, QWidget

from studio.services.runner import Operation
from studio.ui.context import AppContext

if TYPE_CHECKING:  # the import service loads on the first import, not with the window
    from studio.core.importing import ImportService, ImportSummary

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 0.033


class ImportController(QObject):
    progressed = Signal(int, int, str)  # done, total, current file
    finished = Signal(object)  # ImportSummary
    status = Signal(str)  # a one-line summary for the status bar

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.window: QWidget | None = None  # dialogs are parented here
        self._cancel = threading.Event()
        self._op: Operation | None = None  # the running import, on the app's runner
        self._queue: list[tuple[list[Path], list[Path]]] = []
        self._cleanup: list[Path] = []
        self.dialog: QProgressDialog | None = None
        self.summary_box: QMessageBox | None = None
        self.last_summary: ImportSummary | None = None
        self.progressed.connect(self._on_progress)
        self.finished.connect(self._on_finished)
        app = QApplication.instance()
        if app is not None:  # stop cleanly before the library closes at exit
            app.aboutToQuit.connect(self.shutdown)

    @cached_property
    def service(self) -> ImportService:
        # Opened on first use: building the window must not open the library. No eager
        # thumbnails: the gallery makes them for the rows it paints (ThumbnailLoader).
        from studio.core.importing import ImportService

        return ImportService.for_paths(self.ctx.library, self.ctx.paths.cache_dir,
                                       eager_thumbnails=False)

    @property
    def running(self) -> bool:
        return self._op is not None

    def import_paths(self, paths: list[Path], cleanup: list[Path] | None = None) -> None:
        """Import ``paths`` (files and folders); queued behind an import already running.
        ``cleanup`` files (e.g. a pasted image's temporary file) are deleted afterwards."""
        if not paths:
            return
        self._queue.append((list(paths), list(cleanup or [])))
        if not self.running:
            self._start_next()

    def import_image(self, image: QImage) -> None:
        """Import pasted image data: saved as a PNG in the cache, then imported like a file."""
        folder = self.ctx.paths.cache_dir / "paste"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / time.strftime("Pasted image %Y-%m-%d %H.%M.%S.png")
        if not image.save(str(path), "PNG"):
            self._tell_error("The pasted image could not be saved for import.")
            return
        self.import_paths([path], cleanup=[path])

    def cancel(self) -> None:
        self._cancel.set()
        self._queue.clear()

    # -- worker -------------------------------------------------------------------------------

    def _start_next(self) -> None:
        paths, cleanup = self._queue.pop(0)
        self._cleanup = cleanup
        self._cancel.clear()
        self._show_dialog()

        last = [0.0]

        def progress(p) -> None:
            # At most ~30 updates a second: hundreds of files a second would otherwise
            # queue hundreds of dialog updates on the GUI thread.
            now = time.monotonic()
            if p.done == 0 or p.done == p.total or now - last[0] >= PROGRESS_INTERVAL_S:
                last[0] = now
                self.progressed.emit(p.done, p.total, p.current)

        def work() -> ImportSummary:
            try:
                return self.service.import_paths(paths, progress=progress, cancel=self._cancel)
            except Exception as exc:  # the service rejects per file; this is a real fault
                log.exception("import failed")
                from studio.core.importing import ImportSummary

                summary = ImportSummary()
                summary.rejected.append(_fault(exc))
                return summary

        self._op = self.ctx.runner.run(work, label="Importing").success(self.finished.emit)
        self._op.start()

    def shutdown(self) -> None:
        """Cancel and wait for the file in hand: what is done stays, the rest is not started."""
        self.cancel()
        self.wait(30.0)

    def wait(self, timeout: float = 60.0) -> None:
        """Block until the running import's work ends (tests and shutdown)."""
        if self._op is not None:
            self._op.wait(timeout)

    def _show_dialog(self) -> None:
        dialog = QProgressDialog("Looking for media…", "Cancel", 0, 0, self.window)
        dialog.setWindowTitle("Importing")
        dialog.setWindowModality(Qt.WindowModality.NonModal)  # keep browsing while it runs
        dialog.setMinimumDuration(400)  # a quick import never flashes a dialog
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self.cancel)
        self.dialog = dialog

    def _on_progress(self, done: int, total: int, current: str) -> None:
        if self.dialog is None:
            return
        self.dialog.setMaximum(max(total, 1))
        self.dialog.setValue(min(done, total))
        if current:
            self.dialog.setLabelText(f"Importing {done + 1} of {total}: {Path(current).name}")

    def _on_finished(self, summary: ImportSummary) -> None:
        self._op = None
        if self.dialog is not None:
            self.dialog.canceled.disconnect(self.cancel)
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
        for path in self._cleanup:
            path.unlink(missing_ok=True)
        self._cleanup = []
        self.ctx.emit(self.ctx.events.asset_added, 0)  # every view of the library reloads
        self.last_summary = summary
        self.status.emit(_one_line(summary))
        if summary.rejected or summary.cancelled:
            self._show_summary(summary)
        if self._queue:
            self._start_next()

    def _show_summary(self, summary: ImportSummary) -> None:
        box = QMessageBox(self.window)
        box.setIcon(QMessageBox.Icon.Warning if summary.rejected else
                    QMessageBox.Icon.Information)
        box.setWindowTitle("Import finished" if not summary.cancelled else "Import cancelled")
        box.setText(_one_line(summary))
        if summary.rejected:
            shown = "\n".join(f"• {Path(r.path).name}: {r.reason}"
                              for r in summary.rejected[:8])
            more = len(summary.rejected) - 8
            box.setInformativeText("Not imported:\n" + shown +
                                   (f"\n… and {more} more (see details)" if more > 0 else ""))
            box.setDetailedText("\n".join(f"{r.path}: {r.reason}" for r in summary.rejected))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.summary_box = box
        box.open()  # not exec(): the event loop (and the next queued import) keeps running

    def _tell_error(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Import", text, parent=self.window)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.summary_box = box
        box.open()


def _fault(exc: Exception):
    from studio.core.importing import Rejection

    return Rejection("(import)", f"the import stopped on an unexpected error: {exc}")


def _one_line(summary: ImportSummary) -> str:
    parts = [f"Imported {len(summary.imported)}"]
    if summary.already:
        parts.append(f"{len(summary.already)} already in the library")
    if summary.rejected:
        parts.append(f"{len(summary.rejected)} rejected")
    text = ", ".join(parts) + "."
    if summary.cancelled:
        text += f" Cancelled before {summary.not_started} file(s)."
    return text


def importer_for(ctx: AppContext) -> ImportController:
    """The context's one import controller (kept on the context so sections can find it)."""
    ctl = ctx.__dict__.get("_import_controller")
    if ctl is None:
        ctl = ImportController(ctx)
        ctx.__dict__["_import_controller"] = ctl
    return ctl
