"""Small files are read once into memory (sniffed, checked, hashed, stored and searched for a
manifest from the same bytes); files above ``in_memory_limit`` are streamed. Both paths must
give the same verdicts, reasons and stored bytes."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from studio.core.importing import ImportService, ThumbnailCache
from studio.core.library import Library
from studio.core.library.store import FileStore

from .media import image
from .test_service import bad_corpus, reasons  # noqa: F401  (a fixture, shared)


def _service(tmp_path: Path, name: str, limit: int, eager: bool) -> ImportService:
    lib = Library(tmp_path / f"{name}.db", tmp_path / f"{name}-store")
    return ImportService(lib, ThumbnailCache(tmp_path / f"{name}-thumbs"),
                         eager_thumbnails=eager, in_memory_limit=limit)


@pytest.mark.parametrize("eager", [True, False], ids=["decode", "gui-no-thumbnails"])
def test_memory_and_streamed_paths_reject_alike(tmp_path: Path, bad_corpus: Path,  # noqa: F811
                                                eager: bool) -> None:
    in_memory = _service(tmp_path, "mem", 1 << 20, eager)
    streamed = _service(tmp_path, "stream", 0, eager)  # every file above the limit
    try:
        a = in_memory.import_paths([bad_corpus])
        b = streamed.import_paths([bad_corpus])
        assert reasons(a) == reasons(b)
        assert "truncated or corrupt" in reasons(a)["corrupt.png"]
        assert "truncated or corrupt" in reasons(a)["truncated.jpg"]
        assert "decompression bomb" in reasons(a)["bomb.png"]
        assert ({(x.original_name, x.sha256, x.store_path, x.width, x.height)
                 for x in a.imported} ==
                {(x.original_name, x.sha256, x.store_path, x.width, x.height)
                 for x in b.imported})
        for svc in (in_memory, streamed):
            assert svc.library.count() == 3 and svc.library.check_consistency().ok
            assert not list(svc.library.store.root.glob("**/.incoming-*"))
    finally:
        in_memory.library.close()
        streamed.library.close()


def test_files_above_the_limit_are_streamed_and_stored_whole(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    files = [image(src / f"{i}.png", size=(8 + 40 * i, 8 + 30 * i)) for i in range(6)]
    files.append(image(src / "photo.jpg", "JPEG", size=(300, 200)))
    sizes = sorted(p.stat().st_size for p in files)
    limit = sizes[len(sizes) // 2]  # about half the files on each path
    service = _service(tmp_path, "lib", limit, eager=False)
    try:
        summary = service.import_paths([src])
        assert len(summary.imported) == len(files) and not summary.rejected
        by_name = {a.original_name: a for a in summary.imported}
        for path in files:
            asset = by_name[path.name]
            data = path.read_bytes()
            assert asset.size == len(data)
            assert asset.sha256 == hashlib.sha256(data).hexdigest()
            assert service.library.path_of(asset).read_bytes() == data
        assert service.library.check_consistency().ok
    finally:
        service.library.close()


def test_manifest_label_is_read_on_both_paths(tmp_path: Path, shared_media: Path) -> None:
    labels = []
    for name, limit in (("mem", 1 << 30), ("stream", 0)):
        service = _service(tmp_path, name, limit, eager=False)
        try:
            summary = service.import_paths([shared_media / "C.jpg", shared_media / "A.jpg"])
            got = {a.original_name: a.manifest_label for a in summary.imported}
            assert got["C.jpg"] and got["C.jpg"].startswith("contentauth:")
            assert got["A.jpg"] is None
            labels.append(got)
        finally:
            service.library.close()
    assert labels[0] == labels[1]


def test_put_bytes_stores_read_only_and_skips_bytes_already_there(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "store")
    data = os.urandom(5000)
    sha, rel, size = store.put_bytes(data, ".PNG", sync=False)
    assert (sha, size) == (hashlib.sha256(data).hexdigest(), 5000)
    assert rel == f"{sha[:2]}/{sha}.png"
    path = store.path_of(rel)
    assert path.read_bytes() == data
    assert not stat.S_IMODE(path.stat().st_mode) & 0o222  # read-only
    old = path.stat().st_mtime - 3600
    os.utime(path, (old, old))
    before = path.stat()
    assert store.put_bytes(data, ".png") == (sha, rel, size)
    after = path.stat()
    assert after.st_ino == before.st_ino and path.read_bytes() == data  # not written again
    # but touched: a repair in another process must not take it for an old orphan now
    assert after.st_mtime > before.st_mtime + 3000
    assert not list(store.root.glob("**/.incoming-*"))
    store.sync([rel])
    assert store.iter_files() == [rel]


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_grey_check_decode_rejects_what_the_colour_decode_rejects(tmp_path: Path,
                                                                  progressive: bool) -> None:
    """Without a thumbnail a JPEG is decoded to grey (no colour conversion); every scan is
    still entropy-decoded, so cut or damaged files fail exactly as with the colour decode."""
    from PIL import Image

    from studio.core.importing.probe import ProbeError, probe
    from studio.core.importing.sniff import JPEG

    src = tmp_path / "src.jpg"
    Image.radial_gradient("L").resize((300, 200)).convert("RGB").save(
        src, "JPEG", progressive=progressive, quality=90)
    whole = src.read_bytes()
    variants = [whole] + [whole[:len(whole) * k // 10] for k in range(1, 10)]
    damaged = bytearray(whole)
    damaged[len(whole) // 2:len(whole) // 2 + 64] = b"\xff" * 64
    variants.append(bytes(damaged))

    def verdict(data: bytes, thumbnail: bool) -> str:
        try:
            probe(data, JPEG, thumbnail=thumbnail)
        except ProbeError as exc:
            return str(exc)
        return "ok"

    got = [(verdict(v, True), verdict(v, False)) for v in variants]
    assert all(colour == grey for colour, grey in got), got
    assert got[0] == ("ok", "ok")
    assert sum(colour != "ok" for colour, _ in got) >= 8  # the cut files are refused


def _chattr_flags(folder: Path) -> int | None:
    import array
    import fcntl

    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        flags = array.array("i", [0])
        fcntl.ioctl(fd, 0x80086601, flags, True)  # FS_IOC_GETFLAGS
        return flags[0]
    except OSError:
        return None  # a file system without chattr flags
    finally:
        os.close(fd)


def _fs_type(folder: Path) -> str:
    best, kind = "", ""
    with open("/proc/self/mounts") as fh:
        for line in fh:
            _, mount, fstype, *_ = line.split()
            if str(folder).startswith(mount.rstrip("/") + "/") and len(mount) > len(best):
                best, kind = mount, fstype
    return kind


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ext4 flags are Linux's")
def test_store_root_spreads_its_shard_folders(tmp_path: Path) -> None:
    """The store marks its root a top directory ("chattr +T") so ext4 spreads the shard
    folders over block groups; where the flag is not supported (tmpfs) it still stores."""
    for base in (tmp_path, Path("/dev/shm")):
        if not base.is_dir() or not os.access(base, os.W_OK):
            continue
        root = base / f"store-{os.getpid()}"
        store = FileStore(root)
        rel = ""
        try:
            _, rel, _ = store.put_bytes(b"shard me", ".png", sync=False)
            assert store.path_of(rel).read_bytes() == b"shard me"
            if _fs_type(root).startswith("ext"):
                flags = _chattr_flags(root)
                assert flags is not None and flags & 0x00020000, flags  # FS_TOPDIR_FL
        finally:
            if rel:
                store.remove(rel)  # read-only: removed as the store removes
            shutil.rmtree(root, ignore_errors=True)
