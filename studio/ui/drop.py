"""Window-level import: drag files or folders onto the window, paste (Ctrl+V), and
File > Import… (Ctrl+I). Everything goes to the context's one ImportController."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, QUrl
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QWidget
from shiboken6 import isValid

from studio.ui.gallery.importer import ImportController, importer_for

MEDIA_FILTER = ("Media files (*.png *.jpg *.jpeg *.webp *.avif *.heic *.heif *.gif *.tif *.tiff "
                "*.dng *.jxl *.mp4 *.m4v *.mov *.avi *.mp3 *.wav *.m4a *.flac);;All files (*)")


def local_paths(mime: QMimeData) -> list[Path]:
    """Local files and folders in a drop or the clipboard (``text/uri-list``)."""
    urls: list[QUrl] = list(mime.urls()) if mime.hasUrls() else []
    if not urls and mime.hasText():  # some file managers put only file:// lines in text
        urls = [QUrl(line.strip()) for line in mime.text().splitlines()
                if line.strip().startswith("file://")]
    return [Path(u.toLocalFile()) for u in urls if u.isLocalFile() and u.toLocalFile()]


class WindowImport(QObject):
    """Event filter on the main window plus its import actions."""

    def __init__(self, window: QMainWindow, controller: ImportController) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller
        controller.window = window
        controller.status.connect(lambda text: window.statusBar().showMessage(text, 10_000))
        window.setAcceptDrops(True)
        # A text field (the prompt box, a name) takes a drop itself and would paste
        # "file:///…"; every drop of files on this window imports them instead, unless the
        # widget that would take it owns file drops (the canvas: its source image). Not an
        # application-wide filter: that put every event of every object through Python and
        # made a Python type for each class receiving one (4 MiB in the idle window). Drops
        # are caught where they arrive instead: at the window's QWindow (a real drag, before
        # Qt picks the widget), on the widgets that accept drops themselves (a drag event
        # sent straight to one) and on the window (where the others propagate).
        window.installEventFilter(self)
        self.watch(window)
        self._handle = None
        self._watch_handle()

        self.import_action = QAction("&Import…", window)
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.setStatusTip("Copy media files into the library")
        self.import_action.triggered.connect(self.choose_files)
        self.import_folder_action = QAction("Import &Folder…", window)
        self.import_folder_action.setShortcut(QKeySequence("Ctrl+Shift+I"))
        self.import_folder_action.setStatusTip("Copy every media file in a folder (and its "
                                               "subfolders) into the library")
        self.import_folder_action.triggered.connect(self.choose_folder)
        self.paste_action = QAction("&Paste", window)
        self.paste_action.setShortcut(QKeySequence.StandardKey.Paste)
        self.paste_action.setStatusTip("Import files or an image from the clipboard")
        self.paste_action.triggered.connect(self.paste)
        self._add_to_menus()

    def _add_to_menus(self) -> None:
        bar = self.window.menuBar()
        menus = [a.menu() for a in bar.actions() if isinstance(a.menu(), QMenu)]
        file_menu = next((m for m in menus if m.title().replace("&", "") == "File"), None)
        if file_menu is None:
            file_menu = bar.addMenu("&File")
        first = file_menu.actions()[0] if file_menu.actions() else None
        file_menu.insertActions(first, [self.import_action, self.import_folder_action])
        if first is not None:
            file_menu.insertSeparator(first)
        edit_menu = next((m for m in menus if m.title().replace("&", "") == "Edit"), None)
        if edit_menu is None:
            edit_menu = QMenu("&Edit", self.window)
            after_file = bar.actions()[1] if len(bar.actions()) > 1 else None
            bar.insertMenu(after_file, edit_menu)
        edit_menu.addAction(self.paste_action)

    # -- drag and drop ------------------------------------------------------------------------

    def watch(self, root: QWidget) -> None:
        """Filter drops on ``root``'s widgets that accept drops themselves (text fields);
        the main window calls this for each section it builds."""
        for widget in root.findChildren(QWidget):
            if widget.acceptDrops() and not widget.property("ownsFileDrops"):
                widget.installEventFilter(self)

    def _watch_handle(self) -> None:
        # Before the first show there is no QWindow yet: the window's filter calls this again
        # on its Show event.
        handle = self.window.windowHandle()
        if handle is not None and handle is not self._handle:
            handle.installEventFilter(self)
            self._handle = handle

    def _taker(self, pos) -> QWidget | None:
        """The widget Qt would give a drop at ``pos`` (window coordinates): the deepest one
        under it that accepts drops."""
        widget = self.window.childAt(pos.toPoint())
        while widget is not None and widget is not self.window and not widget.acceptDrops():
            widget = widget.parentWidget()
        return widget

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if obj is self.window and kind == QEvent.Type.Show:
            self._watch_handle()
            return False
        if kind not in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            return False
        if not isValid(self.window):
            return False
        if obj is self._handle:  # a real drag, before Qt gives it to a widget
            assert isinstance(event, QDragEnterEvent | QDropEvent)
            taker = self._taker(event.position())
            if taker is not None and taker.property("ownsFileDrops"):
                return False  # e.g. the Generate canvas: a drop is its source
        elif (not isinstance(obj, QWidget) or obj.window() is not self.window
              or obj.property("ownsFileDrops")):
            return False
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, QDragEnterEvent | QDropEvent)
            if local_paths(event.mimeData()):
                event.acceptProposedAction()
                return True
            return False  # text and other drags: the widget under the cursor decides
        if kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            paths = local_paths(event.mimeData())
            if paths:
                event.acceptProposedAction()
                self.controller.import_paths(paths)
                return True
        return super().eventFilter(obj, event)

    # -- actions ------------------------------------------------------------------------------

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self.window, "Import media", "", MEDIA_FILTER)
        self.controller.import_paths([Path(f) for f in files])

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Import a folder")
        if folder:
            self.controller.import_paths([Path(folder)])

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        paths = local_paths(mime) if mime is not None else []
        if paths:
            self.controller.import_paths(paths)
        elif mime is not None and mime.hasImage():
            self.controller.import_image(QGuiApplication.clipboard().image())
        else:
            self.window.statusBar().showMessage(
                "Nothing to paste: the clipboard holds no files and no image.", 8_000)


def install_import_handling(window: QMainWindow) -> WindowImport:
    """Called once by the main window: drops, paste and the Import actions."""
    return WindowImport(window, importer_for(window.ctx))  # type: ignore[attr-defined]
