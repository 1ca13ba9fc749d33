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
