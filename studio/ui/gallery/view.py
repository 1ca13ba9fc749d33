"""The gallery view: a virtualised icon grid with multi-select."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from studio.core.library import Asset
from studio.ui.context import AppContext
from studio.ui.gallery.delegate import TILE, GalleryDelegate
from studio.ui.gallery.model import AssetRole


class GalleryView(QListView):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)  # lets Qt lay out thousands of rows without asking each
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setGridSize(TILE + QSize(4, 4))
        self.setSpacing(0)
        self.setWordWrap(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(False)
        self.setAcceptDrops(False)  # drops go to the window, which imports them
        self.setMouseTracking(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setItemDelegate(GalleryDelegate(self))
        self.setAccessibleName("Library gallery")
        # "Mint…" for one selected asset (the library section's context menu shows it).
        self.mint_action = QAction("&Mint…", self)
        self.mint_action.setShortcut(QKeySequence("Ctrl+M"))
        self.mint_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.mint_action.setStatusTip("Mint the selected work as an NFT with a royalty split")
        self.mint_action.triggered.connect(self.open_mint_dialog)
        self.addAction(self.mint_action)

    def open_mint_dialog(self):
        assets = self.selected_assets()
        if len(assets) != 1:
            return None
        from studio.ui.mint_dialog import open_mint_dialog

        # The dialog's result reaches every view through the app's asset_minted event.
        return open_mint_dialog(self.ctx, assets[0], self)

    def selected_assets(self) -> list[Asset]:
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        return [self.model().index(r, 0).data(AssetRole) for r in rows]
