"""Light/dark appearance that follows the system unless the user picks one."""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget


def system_is_dark() -> bool:
    """Whether the system's colour scheme is dark. Not before the first paint: reading it
    builds the 93 Python enums of the ``Qt`` namespace (~40 ms); see ``system_dark``."""
    from PySide6.QtCore import Qt

    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


# Fusion's own light palette (what ``QStyle.standardPalette()`` gives), written out: asking the
# style for it makes the QStyle Python type, whose 11 enums (~14 ms) the first paint does not
# need, and the platform's default palette may be dark where the user picked "light".
# Role: (active and inactive, disabled).
_LIGHT = {
    "WindowText": ((0, 0, 0), (190, 190, 190)),
    "Button": ((239, 239, 239), (239, 239, 239)),
    "Light": ((255, 255, 255), (255, 255, 255)),
    "Midlight": ((202, 202, 202), (202, 202, 202)),
    "Dark": ((159, 159, 159), (190, 190, 190)),
    "Mid": ((184, 184, 184), (184, 184, 184)),
    "Text": ((0, 0, 0), (190, 190, 190)),
    "BrightText": ((255, 255, 255), (255, 255, 255)),
    "ButtonText": ((0, 0, 0), (190, 190, 190)),
    "Base": ((255, 255, 255), (239, 239, 239)),
    "Window": ((239, 239, 239), (239, 239, 239)),
    "Shadow": ((118, 118, 118), (177, 177, 177)),
    "Highlight": ((48, 140, 198), (145, 145, 145)),
    "HighlightedText": ((255, 255, 255), (255, 255, 255)),
    "Link": ((0, 0, 255), (0, 0, 255)),
    "LinkVisited": ((255, 0, 255), (255, 0, 255)),
    "AlternateBase": ((247, 247, 247), (247, 247, 247)),
    "ToolTipBase": ((255, 255, 220), (255, 255, 220)),
    "ToolTipText": ((0, 0, 0), (0, 0, 0)),
    "PlaceholderText": ((0, 0, 0, 128), (0, 0, 0, 128)),
    "Accent": ((48, 140, 198), (145, 145, 145)),
}


def _light_palette() -> QPalette:
    p = QPalette()
    groups = QPalette.ColorGroup
    for name, (normal, disabled) in _LIGHT.items():
        role = getattr(QPalette.ColorRole, name)
        for group in (groups.Active, groups.Inactive):
            p.setColor(group, role, QColor(*normal))
        p.setColor(groups.Disabled, role, QColor(*disabled))
    return p


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
    if app.property("studioStyle") != "Fusion":  # not made by create_application (tests)
        app.setStyle("Fusion")
        app.setProperty("studioStyle", "Fusion")
    if theme == "system":
        dark = system_is_dark() if system_dark is None else system_dark
    else:
        dark = theme == "dark"
    palette = _dark_palette() if dark else _light_palette()
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
