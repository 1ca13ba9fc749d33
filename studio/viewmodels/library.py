"""The Library area's state: the query (search text, view, sort), the selection, and one
``changed`` for everything the app itself added, changed or minted, so the gallery reloads
without a Refresh. Qt-free: the gallery's Qt model follows ``query_changed``."""

from __future__ import annotations

from psygnal import Signal

from studio.core.library.library import AssetSort, AssetView
from studio.services.studio import Studio


class LibraryModel:
    changed = Signal(str, int)  # (what: "added" | "changed" | "minted", asset id)
    query_changed = Signal(str, object, object)  # (text, AssetView, AssetSort)
    selection_changed = Signal(tuple)  # selected asset ids

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.text = ""
        self.view = AssetView.ALL
        self.sort = AssetSort.NEWEST
        self.selection: tuple[int, ...] = ()
        ev = studio.events
        ev.asset_added.connect(lambda i: self.changed.emit("added", i))
        ev.asset_changed.connect(lambda i: self.changed.emit("changed", i))
        ev.asset_minted.connect(lambda i: self.changed.emit("minted", i))

    def set_query(self, text: str | None = None, view: AssetView | None = None,
                  sort: AssetSort | None = None) -> None:
        new = (self.text if text is None else text, view or self.view, sort or self.sort)
        if new != (self.text, self.view, self.sort):
            self.text, self.view, self.sort = new
            self.query_changed.emit(*new)

    def set_selection(self, asset_ids: list[int] | tuple[int, ...]) -> None:
        ids = tuple(asset_ids)
        if ids != self.selection:
            self.selection = ids
            self.selection_changed.emit(ids)
