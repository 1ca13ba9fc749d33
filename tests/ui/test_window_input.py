"""Window-wide input: Ctrl+I does one thing (import), and dropping files anywhere imports them,
on a text field too (the prompt box must not paste file:/// URLs)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication

from studio.ui.sections import SECTIONS


def test_ctrl_i_is_only_import(studio_window) -> None:
    for spec in SECTIONS:
        studio_window.show_section(spec.key)
    ctrl_i = QKeySequence("Ctrl+I")
    owners = [a.text() for a in studio_window.findChildren(QAction) if a.shortcut() == ctrl_i]
    owners += [s.objectName() or "shortcut" for s in studio_window.findChildren(QShortcut)
               if s.key() == ctrl_i]
    assert owners == ["&Import…"]
    wallet = studio_window.page("wallet")
    assert wallet.act_import_key.shortcut().toString() == "Ctrl+Shift+K"


def _drop(target, mime: QMimeData, pos: QPointF | None = None) -> QDropEvent:
    """Drag ``mime`` onto ``target`` and drop it there (at its centre by default)."""
    pos = QPointF(target.rect().center()) if pos is None else pos
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, enter)
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, drop)
    return drop


def _prompt_and_file(window, image: Path, text: str):
    """The Generate prompt holding ``text``, and an image file dragged as a file URL."""
    from PIL import Image

    Image.new("RGB", (32, 32), (200, 40, 40)).save(image)
    window.show_section("generate")
    prompt = window.page("generate").prompt
    prompt.setPlainText(text)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(image))])
    return prompt, image, mime


def test_file_drop_on_the_prompt_imports_instead_of_pasting(studio_window, qtbot,
                                                            tmp_path: Path) -> None:
    prompt, _, mime = _prompt_and_file(studio_window, tmp_path / "dropped.png", "a lighthouse")
    controller = studio_window.importer.controller
    with qtbot.waitSignal(controller.finished, timeout=30_000):
        _drop(prompt.viewport(), mime)
    assert prompt.toPlainText() == "a lighthouse"  # nothing pasted
    assets = studio_window.ctx.library.list_assets()
    assert [a.original_name for a in assets] == ["dropped.png"]

    # Plain text still drops into the text field as text.
    text = QMimeData()
    text.setText(" at dusk")
    _drop(prompt.viewport(), text)
    assert "dusk" in prompt.toPlainText()


def _drag_to_window(window, widget, mime: QMimeData) -> QDropEvent:
    """A drag as the platform delivers it: to the window's QWindow, which then picks the
    widget under the cursor."""
    return _drop(window.windowHandle(), mime,
                 QPointF(widget.mapTo(window, widget.rect().center())))


def test_a_real_drag_imports_over_a_text_field_and_leaves_text_drags_to_it(
        studio_window, qtbot, tmp_path: Path) -> None:
    prompt, image, files = _prompt_and_file(studio_window, tmp_path / "dragged.png",
                                            "a harbour")
    with qtbot.waitSignal(studio_window.importer.controller.finished, timeout=30_000):
        assert _drag_to_window(studio_window, prompt.viewport(), files).isAccepted()
    assert prompt.toPlainText() == "a harbour"
    assert [a.original_name for a in studio_window.ctx.library.list_assets()] == ["dragged.png"]

    text = QMimeData()
    text.setText(" at night")
    _drag_to_window(studio_window, prompt.viewport(), text)
    assert "night" in prompt.toPlainText()

    # The canvas owns file drops (the image becomes its source): the window leaves them be.
    canvas = studio_window.page("generate").canvas
    with qtbot.waitSignal(canvas.dropped, timeout=5_000) as dropped:
        _drag_to_window(studio_window, canvas, files)
    assert dropped.args == [[image]]

