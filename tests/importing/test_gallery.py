"""The Library section and window-level import, driven as a user would (pytest-qt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.core.library.library import AssetSort, AssetView

from .media import image


@pytest.fixture
def window(studio_window):
    studio_window.show_section("library")
    yield studio_window
    studio_window.importer.controller.wait()  # let a finishing import end before teardown


def mime_for(paths: list[Path]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drag_enter(window, mime: QMimeData) -> bool:
    pos = QPoint(window.width() // 2, window.height() // 2)  # this event takes an integer point
    event = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, event)
    return event.isAccepted()


def drop(qtbot, window, paths: list[Path]):
    mime = mime_for(paths)
    assert drag_enter(window, mime)
    pos = QPointF(window.width() / 2, window.height() / 2)
    event = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.importer.controller.finished, timeout=60_000) as blocker:
        QApplication.sendEvent(window, event)
    return blocker.args[0]


def test_drop_files_and_folder(qtbot, window, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    (folder / "deeper").mkdir(parents=True)
    image(folder / "one.png", size=(40, 30))
    image(folder / "deeper" / "two.webp", "WEBP", size=(30, 40))
    (folder / "deeper" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    single = image(tmp_path / "single.gif", "GIF", size=(20, 20))
    summary = drop(qtbot, window, [single, folder])
    assert sorted(a.original_name for a in summary.imported) == ["one.png", "single.gif",
                                                                 "two.webp"]
    assert [Path(r.path).name for r in summary.rejected] == ["broken.jpg"]
    page = window.page("library")
    assert page.model.rowCount() == 3 and page.count_label.text() == "3 asset(s)"
    box = window.importer.controller.summary_box
    assert box is not None and "1 rejected" in box.text() and "broken.jpg" in \
        box.informativeText()
    box.close()
    # Thumbnails arrive off the GUI thread and end up in the model.
    for row in range(3):
        page.model.data(page.model.index(row), Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: all(
        page.loader.pixmap(a.sha256) is not None for a in page.model.assets()), timeout=20_000)
    assert window.ctx.library.check_consistency().ok


def test_drag_of_non_files_is_refused(window) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/a.png")])
    assert not drag_enter(window, mime)
    text = QMimeData()
    text.setText("just words")
    assert not drag_enter(window, text)


def test_paste_files_and_image(qtbot, window, tmp_path: Path) -> None:
    assert window.importer.paste_action.shortcut().toString() == "Ctrl+V"
    assert window.importer.import_action.shortcut().toString() == "Ctrl+I"
    clipboard = QGuiApplication.clipboard()
    clipboard.setMimeData(mime_for([image(tmp_path / "copied.png")]))
    ctl = window.importer.controller
    with qtbot.waitSignal(ctl.finished, timeout=30_000) as first:
        window.importer.paste_action.trigger()
    assert [a.original_name for a in first.args[0].imported] == ["copied.png"]

    pasted = QImage(50, 40, QImage.Format.Format_RGB32)
    pasted.fill(QColor(10, 200, 90))
    clipboard.setImage(pasted)
    with qtbot.waitSignal(ctl.finished, timeout=30_000) as second:
        window.importer.paste_action.trigger()
    (asset,) = second.args[0].imported
    assert asset.title.startswith("Pasted image") and (asset.width, asset.height) == (50, 40)
    assert not any((window.ctx.paths.cache_dir / "paste").iterdir())  # temp file removed

    clipboard.setText("nothing useful")
    window.importer.paste_action.trigger()
    assert "Nothing to paste" in window.statusBar().currentMessage()
    assert window.page("library").model.rowCount() == 2


def test_filters_search_sort_and_inspector(qtbot, window, shared_media: Path) -> None:
    drop(qtbot, window, [shared_media])
    page = window.page("library")
    box = window.importer.controller.summary_box
    assert box is not None and "README.md" in box.detailedText()
    box.close()
    assert page.model.rowCount() == 12
    page.filter.setCurrentIndex(page.filter.findData(AssetView.CREDENTIALS))
    names = sorted(a.original_name for a in page.model.assets())
    assert names == ["C.jpg", "C_with_CAWG_data.jpg", "video1.mp4"]
    page.filter.setCurrentIndex(page.filter.findData(AssetView.GENERATED))
    assert page.model.rowCount() == 0 and "Nothing matches" in page.empty.text()
    page.filter.setCurrentIndex(page.filter.findData(AssetView.ALL))
    page.search.setText("earth")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=5_000)
    page.search.clear()
    qtbot.waitUntil(lambda: page.model.rowCount() == 12, timeout=5_000)
    page.sort.setCurrentIndex(page.sort.findData(AssetSort.LARGEST))
    sizes = [a.size for a in page.model.assets()]
    assert sizes == sorted(sizes, reverse=True)

    row = next(i for i, a in enumerate(page.model.assets()) if a.original_name == "C.jpg")
    page.view.setCurrentIndex(page.model.index(row))
    assert page.inspector is not None and page.inspector.asset.original_name == "C.jpg"
    with qtbot.waitSignal(page.inspector.report_ready, timeout=30_000) as report:
        page.verify()
    assert report.args[0].manifest_label == page.inspector.asset.manifest_label


def test_keyboard_select_all_and_delete_with_confirmation(qtbot, window, tmp_path: Path,
                                                           monkeypatch) -> None:
    drop(qtbot, window, [image(tmp_path / f"{i}.png", size=(10 + i, 10)) for i in range(4)])
    page = window.page("library")
    window.activateWindow()
    page.view.setFocus()
    qtbot.waitUntil(page.view.hasFocus, timeout=5_000)
    qtbot.keyClick(page.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(page.view.selected_assets()) == 4

    asked: list[str] = []

    def answer(reply):
        def question(parent, title, text, *args):
            asked.append(text)
            return reply
        return question

    window.ctx.library.set_minted(page.model.asset(1).id, 1.0)
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Cancel))
    qtbot.keyClick(page.view, Qt.Key.Key_Delete)
    assert asked and "these 4 assets" in asked[0] and "1 of them are minted" in asked[0]
    assert window.ctx.library.count() == 4  # cancelled: nothing deleted

    page.view.clearSelection()
    page.view.selectionModel().select(page.model.index(0),
                                      page.view.selectionModel().SelectionFlag.Select)
    page.view.selectionModel().select(page.model.index(2),
                                      page.view.selectionModel().SelectionFlag.Select)
    doomed = {a.id for a in page.view.selected_assets()}
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    with qtbot.waitSignal(page.model.modelReset, timeout=10_000):
        qtbot.keyClick(page.view, Qt.Key.Key_Delete)
    left = {a.id for a in page.model.assets()}
    assert len(left) == 2 and not left & doomed
    assert window.ctx.library.count() == 2 and window.ctx.library.check_consistency().ok


def test_context_menu_has_only_working_items(qtbot, window, tmp_path: Path) -> None:
    drop(qtbot, window, [image(tmp_path / "a.png"), image(tmp_path / "b.png", size=(9, 9))])
    page = window.page("library")
    page.view.setCurrentIndex(page.model.index(0))
    one = [a.text() for a in page.context_menu().actions() if a.text()]
    assert one == ["&Verify", "&Reveal in File Manager", "&Use as Source", "&Mint…", "&Export…",
                   "Select &All", "&Delete…"]
    assert all(a.isEnabled() for a in page.context_menu().actions())
    page.view.selectAll()
    many = [a.text() for a in page.context_menu().actions() if a.text()]
    assert many == ["&Export…", "Select &All", "&Delete…"]  # no single-item actions
    assert not any("mint" in t.lower() for t in many)  # minting is one asset at a time


def test_large_drop_shows_progress_and_can_be_cancelled(qtbot, window, tmp_path: Path,
                                                        monkeypatch) -> None:
    files = [image(tmp_path / f"{i:02}.png", size=(200 + i, 200)) for i in range(30)]
    ctl = window.importer.controller
    ctl.progressed.connect(lambda *_: ctl.cancel())
    # 30 tiny files can import before the GUI thread delivers the cancel: each file first
    # waits (up to 2 s) for it, so the cancel lands mid-import whatever the machine's speed.
    service = ctl.service
    check = service._prepare
    monkeypatch.setattr(service, "_prepare", lambda path: (ctl._cancel.wait(2.0), check(path))[1])
    summary = drop(qtbot, window, files)
    assert summary.cancelled and len(summary.imported) < 30 and summary.not_started > 0
    assert ctl.summary_box is not None and "Cancelled" in ctl.summary_box.text()
    assert ctl.dialog is None  # the progress dialog is gone
    assert window.page("library").model.rowCount() == len(summary.imported)
    assert window.ctx.library.check_consistency().ok


def test_use_as_source_opens_generate_with_the_asset_as_the_edit_source(
        qtbot, window, tmp_path: Path) -> None:
    drop(qtbot, window, [image(tmp_path / "src.png", size=(96, 80))])
    page = window.page("library")
    page.view.setCurrentIndex(page.model.index(0))
    asset = page.view.selected_assets()[0]
    assert page.use_source_action.isEnabled()
    page.use_source_action.trigger()
    assert window.current_section() == "generate"
    generate = window.page("generate")
    assert generate.ws.source is not None and generate.ws.source.id == asset.id
    assert generate.source_label.text() == f"Source #{asset.id}"
