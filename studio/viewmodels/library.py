"""The library's contents as the views see them: one ``changed`` for everything the app
itself added, changed or minted, so the gallery reloads without a Refresh."""

from __future__ import annotations

from psygnal import Signal

from studio.services.studio import Studio


class LibraryModel:
    changed = Signal(str, int)  # (what: "added" | "changed" | "minted", asset id)

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        ev = studio.events
        ev.asset_added.connect(lambda i: self.changed.emit("added", i))
        ev.asset_changed.connect(lambda i: self.changed.emit("changed", i))
        ev.asset_minted.connect(lambda i: self.changed.emit("minted", i))
