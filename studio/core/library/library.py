"""The library facade: records in SQLite (WAL), bytes in the content-addressed store."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from studio.core.library.models import Asset, AssetOrigin
from studio.core.library.schema import migrate_all
from studio.core.library.store import FileStore
from studio.core.paths import StudioPaths

log = logging.getLogger(__name__)


class AssetView(StrEnum):
    """The gallery's filters."""

    ALL = "all"
    GENERATED = "generated"
    IMPORTED = "imported"
    MINTED = "minted"
    CREDENTIALS = "credentials"  # carries a C2PA manifest


class AssetSort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    TITLE = "title"
    LARGEST = "largest"


_VIEW_SQL = {
    AssetView.ALL: "1",
    AssetView.GENERATED: "origin = 'generated'",
    AssetView.IMPORTED: "origin IN ('imported', 'attested')",
    AssetView.MINTED: "minted_at IS NOT NULL",
    AssetView.CREDENTIALS: "manifest_label IS NOT NULL",
}
_SORT_SQL = {
    AssetSort.NEWEST: "created_at DESC, id DESC",
    AssetSort.OLDEST: "created_at ASC, id ASC",
    AssetSort.TITLE: "lower(coalesce(nullif(title, ''), original_name)) ASC, id ASC",
    AssetSort.LARGEST: "size DESC, id DESC",
}


class LibraryError(Exception):
    """A library operation failed; the message is meant for the user."""


@dataclass
class ConsistencyReport:
    missing_files: list[int] = field(default_factory=list)  # asset ids whose file is gone
    orphan_files: list[str] = field(default_factory=list)  # stored files with no row
    # Temp files of a writer killed mid-copy: never a library file, only disk space.
    stale_temp_files: list[str] = field(default_factory=list)
    kept_recent: list[str] = field(default_factory=list)  # orphans a repair left: too new

    @property
    def ok(self) -> bool:
        return not self.missing_files and not self.orphan_files


@dataclass(frozen=True)
class NewAsset:
    """A file already in the store, to be recorded by :meth:`Library.record_many`."""

    sha256: str
    store_path: str
    size: int
    origin: AssetOrigin
    media_type: str
    title: str = ""
    original_name: str = ""
    width: int | None = None
    height: int | None = None
    manifest_label: str | None = None


class Library:
    """Thread-safe: one connection guarded by a lock (SQLite work here is short)."""

    def __init__(self, db_path: Path, store_root: Path) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self.db_path = db_path
        self.store = FileStore(store_root)
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(
                db_path, check_same_thread=False, isolation_level=None, timeout=10
            )
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            migrate_all(self._conn)
        except sqlite3.DatabaseError as exc:
            raise LibraryError(f"The library database {db_path} cannot be opened: {exc}") from exc

    @classmethod
    def open(cls, paths: StudioPaths) -> Library:
        return cls(paths.library_db, paths.store_dir)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Exclusive access to the connection inside one transaction (for domain tables)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # -- assets ---------------------------------------------------------------------------

    def add_file(
        self,
        src: Path,
        *,
        origin: AssetOrigin,
        media_type: str,
        title: str = "",
        original_name: str | None = None,
        width: int | None = None,
        height: int | None = None,
        manifest_label: str | None = None,
        suffix: str | None = None,
    ) -> tuple[Asset, bool]:
        """Copy ``src`` into the store and record it. Returns (asset, newly_added).

        A file whose sha256 is already in the library is not added twice. ``suffix`` (e.g.
        from content sniffing) overrides the source name's suffix in the store.
        """
        sha, rel, size = self.store.put_file(src, src.suffix if suffix is None else suffix)
        return self._record(sha, rel, size, origin, media_type, title,
                            src.name if original_name is None else original_name,
                            width, height, manifest_label)

    def add_bytes(
        self,
        data: bytes,
        *,
        suffix: str,
        origin: AssetOrigin,
        media_type: str,
        title: str = "",
        original_name: str = "",
        width: int | None = None,
        height: int | None = None,
        manifest_label: str | None = None,
    ) -> tuple[Asset, bool]:
        sha, rel, size = self.store.put_bytes(data, suffix)
        return self._record(sha, rel, size, origin, media_type, title, original_name,
                            width, height, manifest_label)

    def _record(self, sha: str, rel: str, size: int, origin: AssetOrigin, media_type: str,
                title: str, original_name: str, width: int | None, height: int | None,
                manifest_label: str | None) -> tuple[Asset, bool]:
        with self._lock:
            existing = self.get_by_sha256(sha)
            if existing is not None:
                if existing.store_path != rel:
                    # Same bytes under another suffix: keep the first copy only.
                    self.store.remove(rel)
                return existing, False
            cur = self._conn.execute(
                "INSERT INTO assets(sha256, origin, media_type, size, original_name, title,"
                " created_at, width, height, manifest_label, store_path)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (sha, str(origin), media_type, size, original_name, title, time.time(),
                 width, height, manifest_label, rel),
            )
            asset = self.get(cur.lastrowid)
            assert asset is not None
            log.info("library: added asset %s (%s, %d bytes)", asset.id, sha[:12], size)
            return asset, True

    def record_many(self, entries: list[NewAsset]) -> list[tuple[Asset, bool]]:
        """Record files already put in the store (and synced): one transaction and one
        look-up for the whole batch. Returns (asset, newly_added) per entry, in order; an
        entry whose bytes are already recorded (or repeat an earlier entry) is not added."""
        if not entries:
            return []
        out: list[tuple[Asset, bool]] = []
        with self.transaction() as conn:
            shas = sorted({e.sha256 for e in entries})
            marks = ",".join("?" * len(shas))
            known = {r["sha256"]: Asset.from_row(r) for r in conn.execute(
                f"SELECT * FROM assets WHERE sha256 IN ({marks})", shas)}
            dropped: list[str] = []
            for e in entries:
                existing = known.get(e.sha256)
                if existing is not None:
                    if existing.store_path != e.store_path:
                        dropped.append(e.store_path)  # same bytes under another suffix
                    out.append((existing, False))
                    continue
                row = conn.execute(
                    "INSERT INTO assets(sha256, origin, media_type, size, original_name, title,"
                    " created_at, width, height, manifest_label, store_path)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING *",
                    (e.sha256, str(e.origin), e.media_type, e.size, e.original_name, e.title,
                     time.time(), e.width, e.height, e.manifest_label, e.store_path),
                ).fetchone()
                asset = Asset.from_row(row)
                known[e.sha256] = asset
                out.append((asset, True))
        # After the commit: a crash before this leaves an orphan file, never a missing one.
        for rel in set(dropped) - {a.store_path for a, _ in out}:
            self.store.remove(rel)
        log.info("library: recorded %d new asset(s) in one batch", sum(new for _, new in out))
        return out

    def get(self, asset_id: int) -> Asset | None:
        rows = self.query("SELECT * FROM assets WHERE id = ?", (asset_id,))
        return Asset.from_row(rows[0]) if rows else None

    def get_by_sha256(self, sha256: str) -> Asset | None:
        rows = self.query("SELECT * FROM assets WHERE sha256 = ?", (sha256.lower(),))
        return Asset.from_row(rows[0]) if rows else None

    def list_assets(self, origin: AssetOrigin | None = None, limit: int = -1,
                    offset: int = 0) -> list[Asset]:
        if origin is None:
            rows = self.query("SELECT * FROM assets ORDER BY created_at DESC, id DESC"
                              " LIMIT ? OFFSET ?", (limit, offset))
        else:
            rows = self.query("SELECT * FROM assets WHERE origin = ?"
                              " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                              (str(origin), limit, offset))
        return [Asset.from_row(r) for r in rows]

    def count(self) -> int:
        return self.query("SELECT COUNT(*) FROM assets")[0][0]

    def set_title(self, asset_id: int, title: str) -> None:
        with self._lock:
            self._conn.execute("UPDATE assets SET title = ? WHERE id = ?", (title, asset_id))

    def set_manifest_label(self, asset_id: int, label: str | None) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE assets SET manifest_label = ? WHERE id = ?", (label, asset_id)
            )

    def find_assets(self, text: str = "", view: AssetView = AssetView.ALL,
                    sort: AssetSort = AssetSort.NEWEST) -> list[Asset]:
        """Assets matching ``text`` (title, file name, or a generation's prompt) in ``view``."""
        where, params = [_VIEW_SQL[view]], []
        if text.strip():
            like = "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%")\
                .replace("_", "\\_") + "%"
            fields = ["title", "original_name"]
            if self._has_prompts():
                fields.append("(SELECT group_concat(g.prompt, ' ') FROM generations g"
                              " WHERE g.asset_id = assets.id)")
            where.append("(" + " OR ".join(f"{f} LIKE ? ESCAPE '\\'" for f in fields) + ")")
            params += [like] * len(fields)
        rows = self.query(f"SELECT * FROM assets WHERE {' AND '.join(where)}"
                          f" ORDER BY {_SORT_SQL[sort]}", tuple(params))
        return [Asset.from_row(r) for r in rows]

    def _has_prompts(self) -> bool:
        # The generation component owns `generations`; search its prompts once it exists.
        cols = {r["name"] for r in self.query("PRAGMA table_info(generations)")}
        return {"asset_id", "prompt"} <= cols

    def set_minted(self, asset_id: int, minted_at: float | None) -> None:
        """Mark an asset minted (the chain workflow sets this) or not (None)."""
        with self._lock:
            self._conn.execute("UPDATE assets SET minted_at = ? WHERE id = ?",
                               (minted_at, asset_id))

    def minted_ids(self) -> set[int]:
        return {r[0] for r in self.query("SELECT id FROM assets WHERE minted_at IS NOT NULL")}

    def path_of(self, asset: Asset) -> Path:
        return self.store.path_of(asset.store_path)

    def remove(self, asset_id: int) -> bool:
        """Delete the row, then its file. A crash in between leaves an orphan file, which
        :meth:`repair` removes; never a row without its file."""
        with self._lock:
            asset = self.get(asset_id)
            if asset is None:
                return False
            self._conn.execute("DELETE FROM assets WHERE id = ?", (asset_id,))
            self.store.remove(asset.store_path)
            return True

    def check_consistency(self) -> ConsistencyReport:
        with self._lock:
            rows = self.query("SELECT id, store_path FROM assets")
            known = {r["store_path"] for r in rows}
            report = ConsistencyReport()
            for r in rows:
                if not self.store.path_of(r["store_path"]).is_file():
                    report.missing_files.append(r["id"])
            report.orphan_files = [p for p in self.store.iter_files() if p not in known]
            report.stale_temp_files = [str(p.relative_to(self.store.root))
                                       for p in self.store.stale_incoming()]
            return report

    def repair(self, min_age_s: float = 0.0) -> ConsistencyReport:
        """Remove orphan files left by an interrupted delete or import, and temp files of a
        writer killed mid-copy. Rows whose file is missing are reported, not deleted: other
        records (mints) may still refer to them. ``min_age_s``: keep orphans touched more
        recently, which may be an import in another process between its copy and its commit
        (the store touches bytes it finds already stored, too)."""
        with self._lock:
            report = self.check_consistency()
            now = time.time()
            for rel in report.orphan_files:
                path = self.store.path_of(rel)
                try:
                    if min_age_s and now - path.stat().st_mtime < min_age_s:
                        report.kept_recent.append(rel)
                        continue
                except FileNotFoundError:
                    continue
                self.store.remove(rel)
            for rel in report.stale_temp_files:
                self.store.remove(rel)
            return report
