"""The gallery's list model: one row per asset, thumbnails requested only for painted rows."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from studio.core.library import Asset, Library
from studio.core.library.library import AssetSort, AssetView
from studio.ui.gallery.loader import ThumbnailLoader

AssetRole = Qt.ItemDataRole.UserRole + 1
MintedRole = Qt.ItemDataRole.UserRole + 2

Index = QModelIndex | QPersistentModelIndex


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} bytes"


def asset_label(asset: Asset) -> str:
    # An import's title is its file's stem: show the full name so sample1.png and
    # sample1.mp3 can be told apart.
    if asset.original_name and asset.title in ("", Path(asset.original_name).stem):
        return asset.original_name
    return asset.title or f"Asset {asset.id}"


class GalleryModel(QAbstractListModel):
    def __init__(self, library: Library, loader: ThumbnailLoader) -> None:
        super().__init__()
        self.library = library
        self.loader = loader
        self._assets: list[Asset] = []
        self._row_of: dict[str, int] = {}
        self._minted: set[int] = set()
        self.text = ""
        self.view = AssetView.ALL
        self.sort = AssetSort.NEWEST
        loader.loaded.connect(self._thumbnail_ready)

    # -- loading ------------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the library with the current search, filter and sort."""
        self.beginResetModel()
        self._assets = self.library.find_assets(self.text, self.view, self.sort)
        self._row_of = {a.sha256: i for i, a in enumerate(self._assets)}
        self._minted = self.library.minted_ids()
        self.endResetModel()

    def set_query(self, text: str | None = None, view: AssetView | None = None,
                  sort: AssetSort | None = None) -> None:
        self.text = self.text if text is None else text
        self.view = self.view if view is None else view
        self.sort = self.sort if sort is None else sort
        self.reload()

    def asset(self, row: int) -> Asset:
        return self._assets[row]

    def assets(self) -> list[Asset]:
        return list(self._assets)

    def row_of(self, asset_id: int) -> int:
        return next((i for i, a in enumerate(self._assets) if a.id == asset_id), -1)

    # -- Qt model -----------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._assets)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._assets):
            return None
        asset = self._assets[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return asset_label(asset)
        if role == Qt.ItemDataRole.DecorationRole:
            pix = self.loader.pixmap(asset.sha256)
            if pix is None:
                self.loader.request(asset.sha256, self.library.path_of(asset))
            return pix
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(asset)
        if role == AssetRole:
            return asset
        if role == MintedRole:
            return asset.id in self._minted
        return None

    def _tooltip(self, asset: Asset) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(asset.created_at))
        dims = f"{asset.width} × {asset.height}, " if asset.width and asset.height else ""
        creds = "has content credentials" if asset.manifest_label else "no content credentials"
        return (f"{asset_label(asset)}\n{asset.original_name}\n{asset.media_type}, {dims}"
                f"{_human_size(asset.size)}\n{asset.origin.value} {when}\n{creds}")

    def _thumbnail_ready(self, sha256: str) -> None:
        row = self._row_of.get(sha256)
        if row is not None:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])
