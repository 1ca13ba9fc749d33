"""The local library: SQLite records plus a content-addressed file store."""

from studio.core.library.library import Library, LibraryError, NewAsset
from studio.core.library.models import Asset, AssetOrigin

__all__ = ["Asset", "AssetOrigin", "Library", "LibraryError", "NewAsset"]
