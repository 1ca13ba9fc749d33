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
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from studio.core.crashpoints import crash_point
from studio.core.importing.probe import ProbeError, probe
from studio.core.importing.sniff import ALL_FORMATS, HEAD_SIZE, sniff_bytes
from studio.core.importing.thumbnails import ThumbnailCache
from studio.core.library import Asset, AssetOrigin, Library, LibraryError, NewAsset

log = logging.getLogger(__name__)

# The provenance reader loads the whole file into memory; bigger files skip the manifest read
# (logged) rather than risk exhausting memory.
MANIFEST_READ_LIMIT = 256 * 1024 * 1024
# Files up to this size are read once: sniffed, checked, hashed, copied and searched for a
# manifest from the same bytes (a photo was read four times). Bigger ones are streamed, so a
# large video never sits in memory; at most one file per worker is held.
IN_MEMORY_LIMIT = 8 * 1024 * 1024
C2PA_MARKER = b"c2pa"
BATCH = 32  # files per sync + transaction: a kill loses at most one batch's work
# One more thread than cores: a worker waiting on the disk or for the GIL leaves its core to
# the spare (2 cores: 3 workers gave 525-575 files/s in the GUI bench, 2 gave 423-515, 4 less).
IMPORT_WORKERS = min(4, (os.cpu_count() or 1) + 1)
IN_FLIGHT_PER_WORKER = 8  # enough to cover a batch's sync (~15 ms) at a few ms a file
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


@dataclass(frozen=True)
class _Prepared:
    entry: NewAsset


def _read_manifest_label(path: Path) -> str | None:
    """The C2PA manifest label the file carries, via the provenance reader (lazy import)."""
    try:
        data = path.read_bytes()
    except OSError:
        log.exception("reading %s for its manifest failed", path)
        return None
    return _manifest_label_of(data, path)


def _manifest_label_of(data: bytes, path: Path) -> str | None:
    """A file without the bytes ``c2pa`` (every embedded manifest store's JUMBF label)
    carries none, so the SDK is not started for it."""
    if C2PA_MARKER not in data:
        return None
    try:
        from studio.core.provenance.reader import read_report_bytes
    except ImportError:
        log.warning("provenance reader unavailable: manifests of imports are not read")
        return None
    try:
        return read_report_bytes(data, name=str(path)).manifest_label
    except Exception:  # a manifest we cannot read must not stop the import
        log.exception("reading the manifest of %s failed", path)
        return None


class ImportService:
    def __init__(self, library: Library, thumbnails: ThumbnailCache,
                 read_manifest_label: Callable[[Path], str | None] = _read_manifest_label,
                 manifest_read_limit: int = MANIFEST_READ_LIMIT, *,
                 eager_thumbnails: bool = True, workers: int = IMPORT_WORKERS,
                 in_memory_limit: int = IN_MEMORY_LIMIT) -> None:
        self.library = library
        self.thumbnails = thumbnails
        # The gallery makes thumbnails for the rows it paints (ThumbnailCache.ensure), so the
        # GUI imports without them: their encode was half of the import's time.
        self.eager_thumbnails = eager_thumbnails
        self.workers = max(1, workers)
        self.read_manifest_label = read_manifest_label
        self.manifest_read_limit = manifest_read_limit
        self.in_memory_limit = in_memory_limit

    @classmethod
    def for_paths(cls, library: Library, cache_dir: Path, *,
                  eager_thumbnails: bool = True) -> ImportService:
        return cls(library, ThumbnailCache(cache_dir / "thumbnails"),
                   eager_thumbnails=eager_thumbnails)

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
        """Files are checked and copied on a few worker threads (Pillow, zlib and hashlib
        release the GIL), then recorded a batch at a time: one sync of the store and one
        transaction per batch. A kill leaves at worst orphan copies (``Library.repair``),
        never a row without its file."""
        files, rejected = self.collect(paths)
        summary = ImportSummary(rejected=rejected)
        total = len(files)
        workers = self.workers if total > 1 else 1
        pool = ThreadPoolExecutor(workers, "import") if workers > 1 else None
        # A sliding window, in file order: while one batch is synced and recorded, the next
        # files are already being checked, so the workers do not wait on the disk's sync.
        # A few files per worker at most: a cancel still stops the rest promptly.
        window = IN_FLIGHT_PER_WORKER * workers
        pending: deque[tuple[Path, Future[_Prepared] | _Prepared | Rejected]] = deque()
        done: list[tuple[Path, Any]] = []

        def settle_oldest() -> None:
            path, job = pending.popleft()
            if isinstance(job, Future):
                job.exception()  # waits until it ran (or raised): its slot is free again
            done.append((path, job))
            if len(done) >= BATCH:
                self._finish_batch(done, summary)
                done.clear()

        try:
            for i, path in enumerate(files):
                if cancel is not None and cancel.is_set():
                    summary.cancelled = True
                    summary.not_started = total - i
                    break
                if progress is not None:
                    progress(Progress(i, total, str(path)))
                while len(pending) >= window:
                    settle_oldest()
                pending.append((path, self._run_prepare(path) if pool is None
                                else pool.submit(self._prepare, path)))
            while pending:  # what was started is finished and recorded, cancelled or not
                settle_oldest()
            self._finish_batch(done, summary)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        if progress is not None and not summary.cancelled:
            progress(Progress(total, total, ""))
        log.info("import: %d new, %d already there, %d rejected%s", len(summary.imported),
                 len(summary.already), len(summary.rejected),
                 " (cancelled)" if summary.cancelled else "")
        return summary

    def import_file(self, path: Path) -> tuple[Asset, bool]:
        """Import one file. Raises :class:`Rejected` with the reason if it is not accepted."""
        summary = ImportSummary()
        self._finish_batch([(path, self._run_prepare(path))], summary)
        if summary.rejected:
            raise Rejected(summary.rejected[0].reason)
        return (summary.imported[0], True) if summary.imported else (summary.already[0], False)

    def _run_prepare(self, path: Path) -> _Prepared | Rejected:
        try:
            return self._prepare(path)
        except Rejected as exc:
            return exc

    def _finish_batch(self, batch: list[tuple[Path, Any]], summary: ImportSummary) -> None:
        ready: list[tuple[Path, _Prepared]] = []
        for path, job in batch:
            try:
                done = job.result() if isinstance(job, Future) else job
            except Rejected as exc:
                done = exc
            if isinstance(done, Rejected):
                summary.rejected.append(Rejection(str(path), str(done)))
            else:
                ready.append((path, done))
        if not ready:
            return
        try:
            self.library.store.sync([p.entry.store_path for _, p in ready])
            crash_point("import:copied")  # files in the store, rows not yet committed
            results = self.library.record_many([p.entry for _, p in ready])
        except OSError as exc:
            reason = _os_reason(exc)
            summary.rejected += [Rejection(str(path), reason) for path, _ in ready]
            return
        except LibraryError as exc:
            summary.rejected += [Rejection(str(path), str(exc)) for path, _ in ready]
            return
        crash_point("import:recorded")  # this batch committed, the next not started
        for asset, new in results:
            (summary.imported if new else summary.already).append(asset)

    def _prepare(self, path: Path) -> _Prepared:
        """Check one file and copy it into the store (not yet synced nor recorded)."""
        data: bytes | None = None  # the whole file, when small enough to read once
        try:
            st = os.stat(path)
            if not stat.S_ISREG(st.st_mode):
                raise Rejected(f"not a regular file ({_kind_of(st.st_mode)})")
            if st.st_size == 0:
                raise Rejected("the file is empty (0 bytes)")
            if st.st_size <= self.in_memory_limit:
                data = _read_whole(path, st.st_size)
                head = data[:HEAD_SIZE] if data is not None else _read_head(path)
            else:
                head = _read_head(path)
        except OSError as exc:
            raise Rejected(_os_reason(exc)) from exc
        fmt = sniff_bytes(head)
        if fmt is None:
            raise Rejected("not a supported image, video or audio file (its content is not "
                           "a format the studio reads" + _named_like(path) + ")")
        try:
            result = probe(path if data is None else data, fmt, thumbnail=self.eager_thumbnails)
        except ProbeError as exc:
            raise Rejected(str(exc)) from exc
        except OSError as exc:
            raise Rejected(_os_reason(exc)) from exc
        store = self.library.store
        try:
            if data is None:
                sha, rel, size = store.put_file(path, fmt.ext, sync=False)
            else:  # what was checked is what is stored
                sha, rel, size = store.put_bytes(data, fmt.ext, sync=False)
        except OSError as exc:
            raise Rejected(_os_reason(exc)) from exc
        # Derived data: failures are logged, never a reason to reject the file.
        if self.eager_thumbnails and not self.thumbnails.has(sha):
            try:
                self.thumbnails.save(sha, result.thumbnail, fmt)
            except OSError:
                log.exception("thumbnail for %s not written", path)
        label = None
        if size > self.manifest_read_limit:
            log.warning("%s is %d bytes: its manifest was not read", path, size)
        elif data is not None and self.read_manifest_label is _read_manifest_label:
            label = _manifest_label_of(data, store.path_of(rel))  # not read a second time
        else:
            label = self.read_manifest_label(store.path_of(rel))
        return _Prepared(NewAsset(
            sha256=sha, store_path=rel, size=size, origin=AssetOrigin.IMPORTED,
            media_type=fmt.mime, title=path.stem, original_name=path.name,
            width=result.width, height=result.height, manifest_label=label or None))

    def delete(self, asset_ids: Iterable[int]) -> int:
        """Remove assets (row, then stored file) and their thumbnails. Returns how many."""
        removed = 0
        for asset_id in asset_ids:
            asset = self.library.get(asset_id)
            if asset is not None and self.library.remove(asset_id):
                self.thumbnails.remove(asset.sha256)
                removed += 1
        return removed


def _read_whole(path: Path, size: int) -> bytes | None:
    """The file's bytes, or None if it grew past ``size`` since its stat (then streamed).
    Plain fd calls: each call here lets go of the GIL and must take it back, and the
    workers and the GUI share it, so a file is opened, read and closed in three."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        data = os.read(fd, size + 1)
        while len(data) < size:  # a short read (rare on a regular file)
            more = os.read(fd, size + 1 - len(data))
            if not more:
                break
            data += more
    finally:
        os.close(fd)
    return data if len(data) <= size else None


def _read_head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(HEAD_SIZE)


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
