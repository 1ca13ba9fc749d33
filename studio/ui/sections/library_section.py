"""The Library section: search, filter and sort over a virtualised gallery, with the
inspector beside it. Import, delete and export go through core services off the GUI thread."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core.importing import ThumbnailCache
from studio.core.importing.export import export_assets, export_name
from studio.core.library import Asset
from studio.core.library.library import AssetSort, AssetView
from studio.ui.context import AppContext
from studio.ui.gallery.importer import importer_for
from studio.ui.gallery.loader import ThumbnailLoader
from studio.ui.gallery.model import GalleryModel, asset_label
from studio.ui.gallery.view import GalleryView
from studio.ui.tasks import run_in_background

log = logging.getLogger(__name__)

VIEWS = [("All", AssetView.ALL), ("Generated", AssetView.GENERATED),
         ("Imported", AssetView.IMPORTED), ("Minted", AssetView.MINTED),
         ("Has credentials", AssetView.CREDENTIALS)]
SORTS = [("Newest first", AssetSort.NEWEST), ("Oldest first", AssetSort.OLDEST),
         ("Title", AssetSort.TITLE), ("Largest first", AssetSort.LARGEST)]


def _inspector(ctx: AppContext) -> QWidget | None:
    try:
        from studio.ui.inspector import InspectorPanel
    except ImportError:  # the provenance inspector is optional for the gallery
        return None
    return InspectorPanel(ctx)


class LibrarySection(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.importer = importer_for(ctx)
        self.loader = ThumbnailLoader(ThumbnailCache(ctx.paths.cache_dir / "thumbnails"), self)
        self.model = GalleryModel(ctx.library, self.loader)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 8)
        top = QHBoxLayout()
        heading = QLabel("Library")
        heading.setObjectName("sectionHeading")
        top.addWidget(heading)
        top.addStretch(1)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search titles and prompts (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(220)
        self.search.setAcceptDrops(False)  # dropped files import (window), not paste as text
        self.filter = QComboBox()
        for label, value in VIEWS:
            self.filter.addItem(label, value)
        self.filter.setToolTip("Show only some assets")
        self.sort = QComboBox()
        for label, value in SORTS:
            self.sort.addItem(label, value)
        self.sort.setToolTip("Order of the gallery")
        import_button = QPushButton("Import…")
        import_button.setToolTip("Import media files (Ctrl+I), or drop files and folders "
                                 "anywhere on the window")
        import_button.clicked.connect(self._choose_files)
        for w in (self.search, self.filter, self.sort, import_button):
            top.addWidget(w)
        layout.addLayout(top)

        self.view = GalleryView(ctx)
        self.view.setModel(self.model)
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setObjectName("placeholderText")
        self.pages = QStackedWidget()
        self.pages.addWidget(self.view)
        self.pages.addWidget(self.empty)
        self.inspector = _inspector(ctx)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.pages)
        if self.inspector is not None:
            splitter.addWidget(self.inspector)
            splitter.setStretchFactor(0, 3)
            splitter.setStretchFactor(1, 1)
            splitter.setSizes([700, 320])
            attested = getattr(self.inspector, "attested", None)
            if attested is not None:
                attested.connect(lambda _asset: self.refresh())
        layout.addWidget(splitter, 1)
        self.count_label = QLabel()
        layout.addWidget(self.count_label)

        # The query lives in the library view-model; the gallery's Qt model follows it.
        from studio.ui.dispatch import connect
        from studio.viewmodels import ViewModels

        self.vm = ViewModels.of(ctx).library
        self._search_timer = QTimer(self, singleShot=True, interval=200)
        self._search_timer.timeout.connect(lambda: self.vm.set_query(text=self.search.text()))
        self.search.textChanged.connect(self._search_timer.start)
        self.filter.currentIndexChanged.connect(
            lambda: self.vm.set_query(view=self.filter.currentData()))
        self.sort.currentIndexChanged.connect(
            lambda: self.vm.set_query(sort=self.sort.currentData()))
        self.model.text, self.model.view, self.model.sort = self.vm.text, self.vm.view, self.vm.sort
        connect(self.vm.query_changed,
                lambda text, view, sort: self.model.set_query(text=text, view=view, sort=sort),
                self)
        self.model.modelReset.connect(self._after_reload)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.doubleClicked.connect(lambda _i: self.verify())
        self.importer.finished.connect(lambda _summary: self.refresh())
        # Anything the app adds, changes or mints (any section, any dialog) reloads the
        # gallery, coalesced so a batch of 50 generated images is one reload.
        self._changes = QTimer(self, singleShot=True, interval=150)
        self._changes.timeout.connect(self._app_changed)
        connect(self.vm.changed, lambda *_: self._changes.start(), self)
        self._make_actions()
        self.refresh()

    # -- actions ------------------------------------------------------------------------------

    def _make_actions(self) -> None:
        def action(text: str, slot, shortcut=None, tip: str = "") -> QAction:
            a = QAction(text, self)
            a.triggered.connect(slot)
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
                a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                self.view.addAction(a)
            a.setStatusTip(tip)
            return a

        self.delete_action = action("&Delete…", self.delete_selected,
                                    QKeySequence.StandardKey.Delete,
                                    "Remove the selected assets and their stored files")
        self.select_all_action = action("Select &All", self.view.selectAll,
                                        QKeySequence.StandardKey.SelectAll)
        self.reveal_action = action("&Reveal in File Manager", self.reveal,
                                    tip="Open the folder holding the stored file")
        self.use_source_action = action("&Use as Source", self.use_as_source, "Ctrl+G",
                                        "Edit this image in Generate: image to image, inpaint, "
                                        "outpaint, upscale")
        self.export_action = action("&Export…", self.export_selected, "Ctrl+E",
                                    "Copy the selected files out of the library")
        self.verify_action = action("&Verify", self.verify, "Ctrl+Return",
                                    "Check the content credentials in the inspector")
        self.refresh_action = action("Re&fresh", self.refresh, QKeySequence.StandardKey.Refresh)
        find = QAction(self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.triggered.connect(lambda: self.search.setFocus())
        self.addAction(find)

    def _context_menu(self, pos: QPoint) -> None:
        if not self.view.indexAt(pos).isValid():
            return
        menu = self.context_menu()
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def context_menu(self) -> QMenu:
        """The menu for the current selection (only actions that can run are shown)."""
        menu = QMenu(self)
        count = len(self.view.selected_assets())
        if self.inspector is not None and count == 1:
            menu.addAction(self.verify_action)
        if count == 1:
            menu.addAction(self.reveal_action)
            menu.addAction(self.use_source_action)
            menu.addAction(self.view.mint_action)
        menu.addAction(self.export_action)
        menu.addSeparator()
        menu.addAction(self.select_all_action)
        menu.addSeparator()
        menu.addAction(self.delete_action)
        return menu

    def refresh(self) -> None:
        selected = {a.id for a in self.view.selected_assets()}
        self.model.reload()
        for asset_id in selected:
            row = self.model.row_of(asset_id)
            if row >= 0:
                self.view.selectionModel().select(
                    self.model.index(row), self.view.selectionModel().SelectionFlag.Select)

    def select_asset(self, asset_id: int) -> bool:
        """Select and show ``asset_id`` (clearing search and filter if they hide it)."""
        row = self.model.row_of(asset_id)
        if row < 0 and (self.search.text() or self.filter.currentIndex() != 0):
            self.search.clear()
            self.filter.setCurrentIndex(0)
            self.vm.set_query(text="", view=self.filter.currentData())
            row = self.model.row_of(asset_id)
        if row < 0:
            self.refresh()
            row = self.model.row_of(asset_id)
        if row < 0:
            return False
        index = self.model.index(row)
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)
        return True

    def _after_reload(self) -> None:
        rows = self.model.rowCount()
        total = self.ctx.library.count()
        self.count_label.setText(f"{rows} of {total} asset(s)" if rows != total
                                 else f"{total} asset(s)")
        if rows:
            self.pages.setCurrentWidget(self.view)
        else:
            self.empty.setText(
                "Nothing matches the search or filter." if total else
                "Your library is empty.\n\nDrop images, videos or audio files (or whole "
                "folders) anywhere on this window, paste them with Ctrl+V, or press Ctrl+I.")
            self.pages.setCurrentWidget(self.empty)
        self._selection_changed()

    def _selection_changed(self, *_args) -> None:
        selected = self.view.selected_assets()
        self.vm.set_selection([a.id for a in selected])
        has = bool(selected)
        for a in (self.delete_action, self.export_action):
            a.setEnabled(has)
        self.reveal_action.setEnabled(len(selected) == 1)
        self.use_source_action.setEnabled(len(selected) == 1)
        self.verify_action.setEnabled(len(selected) == 1 and self.inspector is not None)
        if self.inspector is not None:
            current = getattr(self.inspector, "asset", None)
            wanted = selected[0] if len(selected) == 1 else None
            if current is None or wanted is None or current.id != wanted.id:
                self.inspector.show_asset(wanted)  # type: ignore[attr-defined]

    def _choose_files(self) -> None:
        window = self.window()
        importer = getattr(window, "importer", None)
        if importer is not None:
            importer.choose_files()

    def verify(self) -> None:
        selected = self.view.selected_assets()
        if self.inspector is not None and len(selected) == 1:
            self.inspector.show_asset(selected[0])  # type: ignore[attr-defined]
            self.inspector.setFocus()

    def use_as_source(self) -> bool:
        """Open Generate with the selected asset as the source of the next edit."""
        selected = self.view.selected_assets()
        window = self.window()
        if len(selected) != 1 or not hasattr(window, "show_section"):
            return False
        window.show_section("generate")
        return bool(window.page("generate").use_source(selected[0].id))

    def reveal(self) -> None:
        selected = self.view.selected_assets()
        if len(selected) == 1:
            folder = self.ctx.library.path_of(selected[0]).parent
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def export_selected(self) -> None:
        assets = self.view.selected_assets()
        if not assets:
            return
        if len(assets) == 1:
            name, _ = QFileDialog.getSaveFileName(self, "Export", export_name(assets[0]))
            if not name:
                return
            dest = Path(name)
            lib = self.ctx.library

            def work() -> list[Path]:
                import shutil

                shutil.copyfile(lib.path_of(assets[0]), dest)
                return [dest]
        else:
            folder = QFileDialog.getExistingDirectory(self, f"Export {len(assets)} files to")
            if not folder:
                return

            def work() -> list[Path]:
                return export_assets(self.ctx.library, assets, Path(folder))

        run_in_background(self.ctx.runner, work, self._exported, self._failed("Export failed"),
                          self)

    def _exported(self, written: list[Path]) -> None:
        self._status(f"Exported {len(written)} file(s) to {written[0].parent}" if written
                     else "Nothing exported")

    def delete_selected(self) -> None:
        assets = self.view.selected_assets()
        if not assets:
            return
        n_minted = len({a.id for a in assets} & self.ctx.library.minted_ids())
        minted = (f"\n\n{n_minted} of them are minted: the tokens stay on chain, but their "
                  "media will no longer be in this library." if n_minted else "")
        what = (f"“{asset_label(assets[0])}”" if len(assets) == 1
                else f"these {len(assets)} assets")
        answer = QMessageBox.question(
            self, "Delete from library",
            f"Delete {what} from the library? The stored copies are removed; files you "
            "imported from elsewhere are not touched. This cannot be undone." + minted,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.delete_assets(assets)

    def _app_changed(self) -> None:
        if self.ctx.closed:
            return
        self.refresh()
        current = getattr(self.inspector, "asset", None)
        if current is not None and self.inspector is not None:
            self.inspector.show_asset(self.ctx.library.get(current.id))  # e.g. now minted

    def delete_assets(self, assets: list[Asset]) -> None:
        """Delete without asking (the confirmation is the caller's)."""
        ids = [a.id for a in assets]
        for a in assets:
            self.loader.forget(a.sha256)
        service = self.importer.service
        run_in_background(self.ctx.runner, lambda: service.delete(ids), self._deleted,
                          self._failed("Delete failed"), self)

    def _deleted(self, count: int) -> None:
        self.view.clearSelection()
        self.refresh()
        self._status(f"Deleted {count} asset(s)")

    def _failed(self, title: str):
        def show(message: str) -> None:
            QMessageBox.warning(self, title, message)
            self.refresh()
        return show

    def _status(self, text: str) -> None:
        window = self.window()
        bar = getattr(window, "statusBar", None)
        if bar is not None:
            bar().showMessage(text, 8_000)


def build(ctx: AppContext) -> QWidget:
    return LibrarySection(ctx)
