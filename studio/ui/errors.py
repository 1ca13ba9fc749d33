"""Unhandled exceptions: log them with their traceback and tell the user in a dialog."""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

log = logging.getLogger("studio.errors")
_showing = False


def _show(summary: str, details: str) -> None:
    global _showing
    if _showing or QApplication.instance() is None:
        return
    _showing = True
    try:
        box = QMessageBox(QApplication.activeWindow())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Something went wrong")
        box.setText(summary)
        box.setInformativeText("The error was written to the log. Your library and wallet are "
                               "unchanged by this error.")
        box.setDetailedText(details)
        box.exec()
    finally:
        _showing = False


def excepthook(exc_type: type[BaseException], exc: BaseException,
               tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    details = "".join(traceback.format_exception(exc_type, exc, tb))
    log.error("unhandled exception:\n%s", details)
    summary = f"{exc_type.__name__}: {exc}"
    # Show it from the event loop, not from inside whatever code raised.
    QTimer.singleShot(0, lambda: _show(summary, details))


def install_excepthook() -> None:
    sys.excepthook = excepthook


def show_error(parent, exc: BaseException, what: str = "") -> QMessageBox:
    """The one way a failed operation is shown: a window-modal warning (not blocking) titled
    by the error's kind, and a line in the status bar of ``parent``'s window."""
    from studio.services.errors import describe_error

    view = describe_error(exc)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(view.title)
    box.setText(f"{what} failed." if what else view.title)
    box.setInformativeText(" ".join(t for t in (view.message, view.retry_hint) if t))
    box.setObjectName("operationError")
    box.open()
    window = parent.window() if parent is not None else None
    if window is not None and hasattr(window, "statusBar"):
        window.statusBar().showMessage(f"{view.title}: {view.message}", 15_000)
    return box
