"""Plain records the library hands out."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class AssetOrigin(StrEnum):
    GENERATED = "generated"
    IMPORTED = "imported"
    ATTESTED = "attested"  # a re-signed copy of an imported file


@dataclass(frozen=True)
class Asset:
    id: int
    sha256: str
    origin: AssetOrigin
    media_type: str
    size: int
    original_name: str
    title: str
    created_at: float
    width: int | None = None
    height: int | None = None
    manifest_label: str | None = None
    # Relative to the library store; resolve with Library.path_of().
    store_path: str = ""

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Asset:
        return cls(
            id=row["id"],
            sha256=row["sha256"],
            origin=AssetOrigin(row["origin"]),
            media_type=row["media_type"],
            size=row["size"],
            original_name=row["original_name"],
            title=row["title"],
            created_at=row["created_at"],
            width=row["width"],
            height=row["height"],
            manifest_label=row["manifest_label"],
            store_path=row["store_path"],
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["origin"] = str(self.origin)
        return data
