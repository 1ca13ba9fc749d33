"""A live theme switch repaints every widget: after switching light -> dark -> light in the
Settings section, the labels of every section (headings, placeholders, status bar) report the
new palette's text colour, not the colour they were polished with."""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel

from studio.ui.sections import SECTIONS


def _lightness(label: QLabel) -> int:
    return label.palette().color(QPalette.ColorRole.WindowText).lightness()


def _labels(window) -> list[QLabel]:
    return [w for w in window.findChildren(QLabel) if w.isVisibleTo(window)
            and not w.styleSheet()]  # labels with a fixed colour (the badge) keep it


def _switch(window, qtbot, theme: str) -> None:
    settings = window.page("settings")
    settings.theme.setCurrentIndex(settings.theme.findData(theme))
    qtbot.wait(50)  # let palette/style change events be delivered


def test_live_theme_switch_repaints_every_label(studio_window, qtbot) -> None:
    window = studio_window
    for spec in SECTIONS:  # build every page first: they must follow the switch, too
        window.show_section(spec.key)
    window.show_section("settings")
    _switch(window, qtbot, "light")
    light_text = QApplication.palette().color(QPalette.ColorRole.WindowText).lightness()
    assert light_text < 100

    _switch(window, qtbot, "dark")
    assert QApplication.instance().property("studioDark") is True
    for spec in SECTIONS:
        window.show_section(spec.key)
        labels = _labels(window)
        assert labels, spec.key
        dark_ones = [w.text()[:30] or w.objectName() for w in labels if _lightness(w) < 128]
        assert not dark_ones, f"{spec.key}: still light-theme text in {dark_ones}"
    heading = window.page("settings").findChild(QLabel, "sectionHeading")
    assert _lightness(heading) > 180
    assert _lightness(window.chain_label) > 180

    _switch(window, qtbot, "light")
    for spec in SECTIONS:
        window.show_section(spec.key)
        light_ones = [w.text()[:30] for w in _labels(window) if _lightness(w) > 128]
        assert not light_ones, f"{spec.key}: still dark-theme text in {light_ones}"
