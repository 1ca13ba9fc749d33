"""Content-addressed file store: each file lives once, named by its sha256, read-only."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


def sha256_stream(fh: BinaryIO) -> str:
    """Hash a file object in chunks: never reads the whole file into memory."""
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

    def relpath_for(self, sha256: str, suffix: str) -> str:
        suffix = suffix.lower() if suffix.startswith(".") and len(suffix) <= 8 else ""
        return f"{sha256[:2]}/{sha256}{suffix}"

    def path_of(self, relpath: str) -> Path:
        return self.root / relpath

    def put_file(self, src: Path, suffix: str = "") -> tuple[str, str, int]:
        """Copy ``src`` into the store while hashing it. Returns (sha256, relpath, size).

        The copy is hashed as written, so what is stored is exactly what was hashed even if
        the source changes meanwhile. An existing identical file is kept as it is.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        tmp = Path(tmp_name)
        try:
            with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
                while chunk := fin.read(CHUNK):
                    h.update(chunk)
                    fout.write(chunk)
                    size += len(chunk)
                fout.flush()
                os.fsync(fout.fileno())
            digest = h.hexdigest()
            rel = self._place(tmp, digest, suffix)
            return digest, rel, size
        finally:
            tmp.unlink(missing_ok=True)

    def put_bytes(self, data: bytes, suffix: str = "") -> tuple[str, str, int]:
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(data).hexdigest()
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fout:
                fout.write(data)
                fout.flush()
                os.fsync(fout.fileno())
            return digest, self._place(tmp, digest, suffix), len(data)
        finally:
            tmp.unlink(missing_ok=True)

    def _place(self, tmp: Path, digest: str, suffix: str) -> str:
        rel = self.relpath_for(digest, suffix)
        dest = self.path_of(rel)
        if dest.exists():
            return rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.replace(tmp, dest)
        return rel

    def remove(self, relpath: str) -> None:
        path = self.path_of(relpath)
        if path.exists():
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
            path.unlink()

    def iter_files(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(
            str(p.relative_to(self.root)) for p in self.root.glob("??/*")
            if p.is_file() and not p.name.startswith(".incoming-")
        )

    def export(self, relpath: str, dest: Path) -> Path:
        shutil.copyfile(self.path_of(relpath), dest)
        return dest
