"""Light/dark appearance that follows the system unless the user picks one."""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget


def system_is_dark() -> bool:
    """Whether the system's colour scheme is dark. Not before the first paint: reading it
    builds the 93 Python enums of the ``Qt`` namespace (~40 ms); see ``system_dark``."""
    from PySide6.QtCore import Qt

    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def _dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor(30, 31, 36), QColor(40, 42, 48), QColor(228, 228, 232)
    for role, color in (
        (QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base), (QPalette.ColorRole.AlternateBase, window),
        (QPalette.ColorRole.ToolTipBase, window), (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.BrightText, QColor("#ff6b6b")),
        (QPalette.ColorRole.Link, QColor(120, 160, 255)),
        (QPalette.ColorRole.Highlight, QColor(109, 93, 252)),
        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
        (QPalette.ColorRole.PlaceholderText, QColor(140, 140, 150)),
    ):
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 128))
    return p


def apply_theme(app: QApplication, theme: str, system_dark: bool | None = None) -> bool:
    """Apply ``system``, ``light`` or ``dark``. Returns whether the result is dark.
    ``system_dark``: the system's scheme when the caller knows it (``system`` then need not
    read it)."""
    app.setStyle("Fusion")
    if theme == "system":
        dark = system_is_dark() if system_dark is None else system_dark
    else:
        dark = theme == "dark"
    palette = _dark_palette() if dark else app.style().standardPalette()
    app.setPalette(palette)
    app.setProperty("studioDark", dark)
    _repolish(app)
    return dark


def _repolish(app: QApplication) -> None:
    """Make a live switch reach every widget. A widget under a style sheet (the main window
    has one) keeps the palette it was polished with, so setting the application palette is
    not enough: re-applying each sheet re-polishes the widgets below it with the new one."""
    for top in app.topLevelWidgets():
        sheet = top.styleSheet()
        if sheet:
            top.setStyleSheet("")
            top.setStyleSheet(sheet)
        for w in [top, *top.findChildren(QWidget)]:
            own = w.styleSheet()
            if own and w is not top:
                w.setStyleSheet("")
                w.setStyleSheet(own)
            w.update()
