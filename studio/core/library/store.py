"""Content-addressed file store: each file lives once, named by its sha256, read-only."""

from __future__ import annotations

# hashlib is imported where a hash is made: it loads OpenSSL (~3.6 MiB resident), and the
# window lists models and opens the library at start without hashing anything.
import itertools
import os
import shutil
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

CHUNK = 1 << 20
T = TypeVar("T")
_INCOMING = ".incoming-"
_O_NEW = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
          | getattr(os, "O_BINARY", 0))


def _load_syncfs() -> Callable[[int], int] | None:
    """libc's syncfs (Linux): flushes one file system, not the whole machine like sync()."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syncfs
    except (OSError, AttributeError):
        return None


_syncfs = _load_syncfs()

# Linux chattr flags (linux/fs.h): FS_IOC_GETFLAGS/SETFLAGS, FS_TOPDIR_FL ("chattr +T").
_GETFLAGS, _SETFLAGS, _TOPDIR_FL = 0x80086601, 0x40086602, 0x00020000


def _spread_subfolders(root: Path) -> None:
    """Mark the store's root a top directory for ext4's Orlov allocator, so its 256 shard
    folders are spread over the disk's block groups instead of all going into the group
    of the root's parent. Each file's inode is allocated in its folder's group, and in a
    crowded group that costs ~1 ms of kernel time per file (measured under /tmp here: 40
    times a spread folder's). Only a placement hint: no effect on data; best effort."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import array
        import fcntl

        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except (ImportError, OSError):
        return
    try:
        flags = array.array("i", [0])
        fcntl.ioctl(fd, _GETFLAGS, flags, True)
        if not flags[0] & _TOPDIR_FL:
            flags[0] |= _TOPDIR_FL
            fcntl.ioctl(fd, _SETFLAGS, flags)
    except OSError:
        pass  # not ext2/3/4 (ENOTTY, EOPNOTSUPP) or not allowed: placement stays as is
    finally:
        os.close(fd)


def _claim_existing(dest: Path) -> bool:
    """Whether ``dest`` already holds these bytes; if so it is touched, so that a repair
    running meanwhile sees it in use and keeps it (``Library.repair(min_age_s=...)``)."""
    try:
        os.utime(dest)
    except FileNotFoundError:
        return False
    except OSError:
        return dest.exists()
    return True


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # no signal sent: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's) or cannot tell: keep its files
    return True


def sha256_stream(fh: BinaryIO) -> str:
    """Hash a file object in chunks: never reads the whole file into memory."""
    import hashlib

    h = hashlib.sha256()
    while chunk := fh.read(CHUNK):
        h.update(chunk)
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    with open(path, "rb") as fh:
        return sha256_stream(fh)


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        # Folders known to exist: an import makes two mkdir calls per file otherwise, a
        # measurable share of its time. A folder removed behind our back is made again.
        self._made: set[Path] = set()
        self._serial = itertools.count()  # names of incoming temp files (next() is atomic)

    def _ensure_dir(self, folder: Path) -> None:
        if folder not in self._made:
            if folder != self.root:
                self._ensure_dir(self.root)  # first: its flag places the folders made in it
            folder.mkdir(parents=True, exist_ok=True)
            if folder == self.root:
                _spread_subfolders(folder)
            self._made.add(folder)

    def relpath_for(self, sha256: str, suffix: str) -> str:
        suffix = suffix.lower() if suffix.startswith(".") and len(suffix) <= 8 else ""
        return f"{sha256[:2]}/{sha256}{suffix}"

    def path_of(self, relpath: str) -> Path:
        return self.root / relpath

    def put_file(self, src: Path, suffix: str = "", *,
                 sync: bool = True) -> tuple[str, str, int]:
        """Copy ``src`` into the store while hashing it. Returns (sha256, relpath, size).

        The copy is hashed as written, so what is stored is exactly what was hashed even if
        the source changes meanwhile. An existing identical file is kept as it is.
        ``sync=False``: the caller calls :meth:`sync` once for a batch before recording it.
        """
        import hashlib

        h = hashlib.sha256()
        size = 0
        fd, tmp_name = self._incoming()
        tmp = Path(tmp_name)
        try:
            with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
                while chunk := fin.read(CHUNK):
                    h.update(chunk)
                    fout.write(chunk)
                    size += len(chunk)
                fout.flush()
                if sync:
                    os.fsync(fout.fileno())
            digest = h.hexdigest()
            rel = self._place(tmp, digest, suffix)
            return digest, rel, size
        finally:
            tmp.unlink(missing_ok=True)

    def put_bytes(self, data: bytes, suffix: str = "", *,
                  sync: bool = True) -> tuple[str, str, int]:
        """:meth:`put_file` for content already in memory (the import reads small files
        once): the bytes hashed are the bytes written, via a temp file renamed into place
        like put_file's. The hash is known first, so bytes already stored are not written
        again, and the temp file is made in its final folder: threads putting files at once
        do not all create and rename in the store's root (one directory lock)."""
        import hashlib

        digest = hashlib.sha256(data).hexdigest()  # releases the GIL on a big buffer
        rel = self.relpath_for(digest, suffix)
        dest = self.path_of(rel)
        if _claim_existing(dest):
            return digest, rel, len(data)
        fd, tmp = self._incoming(dest.parent)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            self._move_in(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest, rel, len(data)

    def _in_dir(self, folder: Path, action: Callable[[], T]) -> T:
        """``action`` (which writes into ``folder``), the folder made first if not known to
        exist, and made again once if it was removed behind our back since."""
        self._ensure_dir(folder)
        try:
            return action()
        except FileNotFoundError:
            self._made.discard(folder)
            self._ensure_dir(folder)
            return action()

    def _incoming(self, folder: Path | None = None) -> tuple[int, str]:
        """A new temporary file in the store (same file system, so placing it is a rename)."""
        where = self.root if folder is None else folder
        return self._in_dir(where, lambda: self._new_incoming(where))

    def _new_incoming(self, folder: Path) -> tuple[int, str]:
        # O_EXCL with a per-process serial instead of tempfile.mkstemp, whose random names
        # cost a measurable share of an import's Python time; a name left by an earlier
        # process with the same pid is skipped.
        while True:
            name = os.path.join(folder, f"{_INCOMING}{os.getpid()}-{next(self._serial)}")
            try:
                return os.open(name, _O_NEW, 0o600), name
            except FileExistsError:
                continue

    def _place(self, tmp: Path, digest: str, suffix: str) -> str:
        rel = self.relpath_for(digest, suffix)
        dest = self.path_of(rel)
        if not _claim_existing(dest):
            self._move_in(tmp, dest)
        return rel

    def _move_in(self, tmp: Path | str, dest: Path) -> None:
        """Make the finished temp file read-only and rename it into place."""
        os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        self._in_dir(dest.parent, lambda: os.replace(tmp, dest))

    def sync(self, relpaths: list[str]) -> None:
        """Make a batch of files put with ``sync=False`` durable before their rows are
        committed: one ``syncfs`` of the store's file system on Linux, else one fsync each."""
        if not relpaths:
            return
        if _syncfs is not None:
            fd = os.open(self.root, os.O_RDONLY)
            try:
                if _syncfs(fd) == 0:
                    return
            finally:
                os.close(fd)
        for rel in relpaths:
            fd = os.open(self.path_of(rel), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def remove(self, relpath: str) -> None:
        path = self.path_of(relpath)
        if path.exists():
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
            path.unlink()

    def stale_incoming(self) -> list[Path]:
        """Temp files of writers that died mid-copy (a kill during an import or a save). Their
        names carry the writer's pid; a live process's are not stale. Names without one (the
        mkstemp names of earlier versions) count once they are an hour old."""
        if not self.root.exists():
            return []
        stale = []
        for path in [*self.root.glob(f"{_INCOMING}*"), *self.root.glob(f"??/{_INCOMING}*")]:
            pid, _, serial = path.name[len(_INCOMING):].partition("-")
            if pid.isdigit() and serial.isdigit():
                if not _process_alive(int(pid)):
                    stale.append(path)
            else:
                try:
                    if time.time() - path.stat().st_mtime > 3600:
                        stale.append(path)
                except OSError:
                    continue  # gone meanwhile
        return sorted(stale)

    def iter_files(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(
            str(p.relative_to(self.root)) for p in self.root.glob("??/*")
            if p.is_file() and not p.name.startswith(_INCOMING)
        )

    def export(self, relpath: str, dest: Path) -> Path:
        shutil.copyfile(self.path_of(relpath), dest)
        return dest
