"""The one import path for drops, paste, File > Import and ``studio import``.

No Qt here: the GUI runs :meth:`ImportService.import_paths` on a worker thread with a progress
callback and a cancel flag. Each file is checked before it is copied (content sniffed, images
decoded under a pixel limit, containers walked), then copied into the store while hashed, so
bad input is rejected with a reason and never reaches the library. The original is only read.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from studio.core.importing.probe import ProbeError, probe
from studio.core.importing.sniff import ALL_FORMATS, HEAD_SIZE, sniff_bytes
from studio.core.importing.thumbnails import ThumbnailCache
from studio.core.library import Asset, AssetOrigin, Library, LibraryError

log = logging.getLogger(__name__)

# The provenance reader loads the whole file into memory; bigger files skip the manifest read
# (logged) rather than risk exhausting memory. Hashing and copying always stream.
MANIFEST_READ_LIMIT = 256 * 1024 * 1024
_MEDIA_SUFFIXES = {f.ext for f in ALL_FORMATS} | {".jpeg", ".jpe", ".tiff", ".heics", ".qt"}


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    current: str  # the file being imported (for display)


@dataclass(frozen=True)
class Rejection:
    path: str
    reason: str


@dataclass
class ImportSummary:
    imported: list[Asset] = field(default_factory=list)
    already: list[Asset] = field(default_factory=list)  # identical bytes were in the library
    rejected: list[Rejection] = field(default_factory=list)
    cancelled: bool = False
    not_started: int = 0  # files left when cancelled

    def as_text(self) -> str:
        lines = [f"Imported {len(self.imported)}, already in the library {len(self.already)}, "
                 f"rejected {len(self.rejected)}."]
        if self.cancelled:
            lines.append(f"Cancelled: {self.not_started} file(s) were not imported.")
        lines += [f"  {r.path}: {r.reason}" for r in self.rejected]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "imported": [a.to_json() for a in self.imported],
            "already": [a.to_json() for a in self.already],
            "rejected": [{"path": r.path, "reason": r.reason} for r in self.rejected],
            "cancelled": self.cancelled,
            "not_started": self.not_started,
        }


class Rejected(Exception):
    """One file is not imported; the message is the reason shown to the user."""


def _read_manifest_label(path: Path) -> str | None:
    """The C2PA manifest label the file carries, via the provenance reader (lazy import)."""
    try:
        from studio.core.provenance.reader import read_report
    except ImportError:
        log.warning("provenance reader unavailable: manifests of imports are not read")
        return None
    try:
        return read_report(path).manifest_label
    except Exception:  # a manifest we cannot read must not stop the import
        log.exception("reading the manifest of %s failed", path)
        return None


class ImportService:
    def __init__(self, library: Library, thumbnails: ThumbnailCache,
                 read_manifest_label: Callable[[Path], str | None] = _read_manifest_label,
                 manifest_read_limit: int = MANIFEST_READ_LIMIT) -> None:
        self.library = library
        self.thumbnails = thumbnails
        self.read_manifest_label = read_manifest_label
        self.manifest_read_limit = manifest_read_limit

    @classmethod
    def for_paths(cls, library: Library, cache_dir: Path) -> ImportService:
        return cls(library, ThumbnailCache(cache_dir / "thumbnails"))

    # -- collecting ---------------------------------------------------------------------------

    def collect(self, paths: Iterable[Path]) -> tuple[list[Path], list[Rejection]]:
        """Expand folders (recursively, following links once, never looping) into files.
        Paths that cannot even be looked at are rejected here."""
        files: list[Path] = []
        rejected: list[Rejection] = []
        seen_dirs: set[tuple[int, int]] = set()
        for path in paths:
            path = Path(path)
            try:
                st = os.stat(path)
            except OSError as exc:
                rejected.append(Rejection(str(path), _os_reason(exc)))
                continue
            if stat.S_ISDIR(st.st_mode):
                self._walk(path, files, rejected, seen_dirs)
            else:
                files.append(path)
        return files, rejected

    def _walk(self, root: Path, files: list[Path], rejected: list[Rejection],
              seen: set[tuple[int, int]]) -> None:
        stack = [root]
        while stack:
            folder = stack.pop()
            try:
                st = os.stat(folder)
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    continue  # a link back to a folder already walked
                seen.add(key)
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as exc:
                rejected.append(Rejection(str(folder), _os_reason(exc)))
                continue
            subdirs = []
            for entry in entries:
                if entry.name.startswith("."):
                    continue  # hidden files (.DS_Store, ._AppleDouble) are not media
                path = Path(entry.path)
                try:
                    is_dir = entry.is_dir(follow_symlinks=True)
                except OSError as exc:
                    rejected.append(Rejection(str(path), _os_reason(exc)))
                    continue
                if is_dir:
                    subdirs.append(path)
                else:
                    files.append(path)
            stack.extend(reversed(subdirs))

    # -- importing ----------------------------------------------------------------------------

    def import_paths(self, paths: Iterable[Path], *,
                     progress: Callable[[Progress], None] | None = None,
                     cancel: CancelFlag | None = None) -> ImportSummary:
        files, rejected = self.collect(paths)
        summary = ImportSummary(rejected=rejected)
        total = len(files)
        for i, path in enumerate(files):
            if cancel is not None and cancel.is_set():
                summary.cancelled = True
                summary.not_started = total - i
                break
            if progress is not None:
                progress(Progress(i, total, str(path)))
            try:
                asset, new = self.import_file(path)
            except Rejected as exc:
                summary.rejected.append(Rejection(str(path), str(exc)))
                continue
            (summary.imported if new else summary.already).append(asset)
        if progress is not None and not summary.cancelled:
            progress(Progress(total, total, ""))
        log.info("import: %d new, %d already there, %d rejected%s", len(summary.imported),
                 len(summary.already), len(summary.rejected),
                 " (cancelled)" if summary.cancelled else "")
        return summary

    def import_file(self, path: Path) -> tuple[Asset, bool]:
        """Import one file. Raises :class:`Rejected` with the reason if it is not accepted."""
        try:
            st = os.stat(path)
            if not stat.S_ISREG(st.st_mode):
                raise Rejected(f"not a regular file ({_kind_of(st.st_mode)})")
            if st.st_size == 0:
                raise Rejected("the file is empty (0 bytes)")
            with open(path, "rb") as fh:
                head = fh.read(HEAD_SIZE)
        except OSError as exc:
            raise Rejected(_os_reason(exc)) from exc
        fmt = sniff_bytes(head)
        if fmt is None:
            raise Rejected("not a supported image, video or audio file (its content is not "
                           "a format the studio reads" + _named_like(path) + ")")
        try:
            result = probe(path, fmt)
        except ProbeError as exc:
            raise Rejected(str(exc)) from exc
        except OSError as exc:
            raise Rejected(_os_reason(exc)) from exc
        try:
            asset, new = self.library.add_file(
                path, origin=AssetOrigin.IMPORTED, media_type=fmt.mime,
                title=path.stem, original_name=path.name, width=result.width,
                height=result.height, suffix=fmt.ext)
        except OSError as exc:
            raise Rejected(_os_reason(exc)) from exc
        except LibraryError as exc:
            raise Rejected(str(exc)) from exc
        if new:
            self._after_add(asset, result.thumbnail, fmt)
            asset = self.library.get(asset.id) or asset
        return asset, new

    def _after_add(self, asset: Asset, thumbnail: Any, fmt: Any) -> None:
        # Derived data only: failures are logged, the asset itself is already safe.
        try:
            self.thumbnails.save(asset.sha256, thumbnail, fmt)
        except OSError:
            log.exception("thumbnail for asset %s not written", asset.id)
        if asset.size > self.manifest_read_limit:
            log.warning("asset %s is %d bytes: its manifest was not read", asset.id, asset.size)
            return
        label = self.read_manifest_label(self.library.path_of(asset))
        if label:
            self.library.set_manifest_label(asset.id, label)

    def delete(self, asset_ids: Iterable[int]) -> int:
        """Remove assets (row, then stored file) and their thumbnails. Returns how many."""
        removed = 0
        for asset_id in asset_ids:
            asset = self.library.get(asset_id)
            if asset is not None and self.library.remove(asset_id):
                self.thumbnails.remove(asset.sha256)
                removed += 1
        return removed


def _named_like(path: Path) -> str:
    suffix = path.suffix.lower()
    return f", although it is named {suffix}" if suffix in _MEDIA_SUFFIXES else ""


def _kind_of(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a plain file"


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop"
    if exc.errno == errno.ENOENT:
        return "the file does not exist (or is a broken link)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied: the file cannot be read"
    if exc.errno == errno.ENOSPC:
        return "the disk holding the library is full"
    return f"the file cannot be read ({exc.strerror or exc})"
