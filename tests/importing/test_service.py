from __future__ import annotations

import hashlib
import os
import shutil
import threading
import tracemalloc
from pathlib import Path

import pytest

from studio.core.importing import ImportService, Progress
from studio.core.library import AssetOrigin
from studio.core.library.library import AssetSort, AssetView

from .media import bmff, image, png_header_only, wav


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reasons(summary) -> dict[str, str]:
    return {Path(r.path).name: r.reason for r in summary.rejected}


def test_shared_fixtures_import_with_manifests(service, lib, shared_media: Path) -> None:
    before = {p.name: (digest(p), p.stat().st_mtime_ns) for p in shared_media.iterdir()}
    summary = service.import_paths([shared_media])
    names = {a.original_name: a for a in summary.imported}
    # C.jpg and file_with_wrong_extension.xyz.jpg hold the same bytes: imported once.
    assert len(summary.imported) == 12 and len(summary.already) == 1
    assert summary.already[0].sha256 == names.get("C.jpg", summary.already[0]).sha256
    assert set(reasons(summary)) == {"README.md", "LICENSE-MIT.txt"}
    c = lib.get_by_sha256(digest(shared_media / "C.jpg"))
    assert c is not None and c.manifest_label and c.manifest_label.startswith("contentauth:")
    assert lib.get_by_sha256(digest(shared_media / "A.jpg")).manifest_label is None
    video = lib.get_by_sha256(digest(shared_media / "video1.mp4"))
    assert video.media_type == "video/mp4" and video.store_path.endswith(".mp4")
    assert lib.get_by_sha256(digest(shared_media / "sample1.avif")).width == 1204
    for asset in lib.list_assets():
        assert asset.origin is AssetOrigin.IMPORTED
        assert service.thumbnails.has(asset.sha256)
        assert digest(lib.path_of(asset)) == asset.sha256
    assert lib.check_consistency().ok
    after = {p.name: (digest(p), p.stat().st_mtime_ns) for p in shared_media.iterdir()}
    assert after == before  # originals untouched


def test_reimport_is_all_already_there(service, lib, tmp_path: Path) -> None:
    files = [image(tmp_path / f"{i}.png", size=(10 + i, 10)) for i in range(3)]
    first = service.import_paths(files)
    again = service.import_paths(files)
    assert len(first.imported) == 3 and not again.imported and len(again.already) == 3
    assert lib.count() == 3 and lib.check_consistency().ok


@pytest.fixture
def bad_corpus(tmp_path: Path) -> Path:
    """Every kind of bad input the importer must survive, beside two good files."""
    d = tmp_path / "drop"
    d.mkdir()
    image(d / "good.png")
    image(d / "really-a-png.jpg", size=(33, 21))  # wrong extension, good content
    (d / "notes.txt").write_text("not media at all")
    (d / "fake.png").write_text("plain text wearing a .png name")
    (d / "empty.jpg").write_bytes(b"")
    full = image(d / "whole.jpg", "JPEG", size=(400, 300)).read_bytes()
    (d / "truncated.jpg").write_bytes(full[: len(full) // 3])
    (d / "whole.jpg").unlink()
    png = image(tmp_path / "src.png", size=(300, 200), colour=(1, 2, 3)).read_bytes()
    idat = png.index(b"IDAT") + 8
    corrupt = bytearray(png)
    corrupt[idat:idat + 16] = b"\xde\xad\xbe\xef" * 4
    (d / "corrupt.png").write_bytes(bytes(corrupt))
    png_header_only(d / "bomb.png", 30_000, 30_000)  # 900 Mpx: above Pillow's hard limit
    png_header_only(d / "bomb-soft.png", 10_000, 10_000)  # 100 Mpx: between 1x and 2x
    mp4 = bmff(d / "clip.mp4", b"isom", payload=b"\x00" * 4000).read_bytes()
    (d / "truncated.mp4").write_bytes(mp4[:2000])
    (d / "clip.mp4").unlink()
    (d / "truncated.wav").write_bytes(wav(tmp_path / "w.wav").read_bytes()[:900])
    # Unreadable: tests run as root, for whom chmod 000 changes nothing, so a FIFO (open
    # would block forever) and a dangling link stand in for a file that cannot be read.
    os.mkfifo(d / "pipe.png")
    os.symlink(d / "missing.jpg", d / "dangling.jpg")
    os.symlink(d / "loop-b.png", d / "loop-a.png")  # a symlink loop
    os.symlink(d / "loop-a.png", d / "loop-b.png")
    os.symlink(d, d / "back-to-top")  # a folder loop: must be walked once
    odd = d / "sub dir" / "ünï cödé 🎨 & 'q' \\ [1]\nline.png"
    odd.parent.mkdir()
    image(odd, size=(17, 19))
    return d


def test_bad_input_is_rejected_with_reasons(service, lib, bad_corpus: Path) -> None:
    summary = service.import_paths([bad_corpus])
    got = reasons(summary)
    imported = sorted(a.original_name for a in summary.imported)
    assert imported == sorted(["good.png", "really-a-png.jpg",
                               "ünï cödé 🎨 & 'q' \\ [1]\nline.png"])
    assert "not a supported" in got["notes.txt"]
    assert "named .png" in got["fake.png"]
    assert "empty" in got["empty.jpg"]
    assert "truncated or corrupt" in got["truncated.jpg"]
    assert "truncated or corrupt" in got["corrupt.png"]
    assert "decompression bomb" in got["bomb.png"]
    assert "decompression bomb" in got["bomb-soft.png"]
    assert "truncated" in got["truncated.mp4"]
    assert "truncated" in got["truncated.wav"]
    assert "named pipe" in got["pipe.png"]
    assert "does not exist" in got["dangling.jpg"]
    assert "loop" in got["loop-a.png"] and "loop" in got["loop-b.png"]
    assert len(got) == 13  # nothing else rejected, and the folder loop added nothing twice
    png = next(a for a in summary.imported if a.original_name == "really-a-png.jpg")
    assert png.media_type == "image/png" and png.store_path.endswith(".png")
    assert (png.width, png.height) == (33, 21)
    assert lib.count() == 3 and lib.check_consistency().ok
    assert not list(lib.store.root.glob("**/.incoming-*"))  # no temporary copies left


def test_each_bad_file_alone_leaves_library_consistent(service, lib, bad_corpus: Path) -> None:
    for path in sorted(bad_corpus.iterdir()):
        if path.is_dir():
            continue
        service.import_paths([path])
        assert lib.check_consistency().ok, path.name
    assert lib.count() == 2


def test_large_file_is_streamed(lib, paths, tmp_path: Path) -> None:
    """A 48 MB file (valid PNG followed by padding) never sits in memory whole."""
    big = image(tmp_path / "big.png", size=(32, 32))
    with open(big, "ab") as fh:
        block = os.urandom(1 << 20)
        for _ in range(48):
            fh.write(block)
    # The provenance reader loads a whole file, so above the limit it is skipped; this
    # checks the importer's own path: sniff, probe, hash and copy.
    service = ImportService.for_paths(lib, paths.cache_dir)
    service.manifest_read_limit = 16 << 20
    tracemalloc.start()
    try:
        summary = service.import_paths([big])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(summary.imported) == 1 and summary.imported[0].size == big.stat().st_size
    assert summary.imported[0].sha256 == digest(big)
    assert peak < 12 << 20, f"peak {peak / 1e6:.1f} MB"
    assert lib.check_consistency().ok


def test_progress_and_cancel(service, lib, tmp_path: Path) -> None:
    files = [image(tmp_path / f"{i}.png", size=(20 + i, 20)) for i in range(10)]
    seen: list[Progress] = []
    cancel = threading.Event()

    def progress(p: Progress) -> None:
        seen.append(p)
        if p.done == 4:
            cancel.set()

    summary = service.import_paths(files, progress=progress, cancel=cancel)
    assert summary.cancelled and len(summary.imported) == 5 and summary.not_started == 5
    assert [p.done for p in seen] == [0, 1, 2, 3, 4] and all(p.total == 10 for p in seen)
    assert lib.count() == 5 and lib.check_consistency().ok
    full = service.import_paths(files, progress=seen.append)
    assert not full.cancelled and seen[-1] == Progress(10, 10, "")
    assert len(full.imported) == 5 and len(full.already) == 5


def test_delete_removes_row_file_and_thumbnail(service, lib, tmp_path: Path) -> None:
    summary = service.import_paths([image(tmp_path / "a.png"), image(tmp_path / "b.gif", "GIF")])
    a, b = summary.imported
    assert service.delete([a.id, 999_999]) == 1
    assert lib.get(a.id) is None and not lib.path_of(a).exists()
    assert not service.thumbnails.has(a.sha256) and service.thumbnails.has(b.sha256)
    assert lib.check_consistency().ok


def test_find_assets_search_filter_sort(service, lib, tmp_path: Path) -> None:
    small = image(tmp_path / "Sunset over 50%_off.png", size=(10, 10))
    large = image(tmp_path / "harbour.png", size=(300, 300), colour=(9, 9, 9))
    summary = service.import_paths([small, large])
    s, h = summary.imported
    generated, _ = lib.add_file(image(tmp_path / "gen.png", size=(5, 5)),
                                origin=AssetOrigin.GENERATED, media_type="image/png",
                                title="a sunset, oil painting")
    lib.set_manifest_label(generated.id, "urn:c2pa:test")
    lib.set_minted(h.id, 1234.0)
    ids = lambda assets: [a.id for a in assets]  # noqa: E731
    assert ids(lib.find_assets("sunset", sort=AssetSort.OLDEST)) == [s.id, generated.id]
    assert ids(lib.find_assets("50%")) == [s.id]  # LIKE wildcards are literal
    assert ids(lib.find_assets("_")) == [s.id]
    assert ids(lib.find_assets(view=AssetView.GENERATED)) == [generated.id]
    assert set(ids(lib.find_assets(view=AssetView.IMPORTED))) == {s.id, h.id}
    assert ids(lib.find_assets(view=AssetView.MINTED)) == [h.id]
    assert ids(lib.find_assets(view=AssetView.CREDENTIALS)) == [generated.id]
    assert ids(lib.find_assets(sort=AssetSort.LARGEST))[0] == h.id
    assert ids(lib.find_assets(sort=AssetSort.TITLE)) == [generated.id, h.id, s.id]
    assert lib.minted_ids() == {h.id}


def test_export_keeps_names_and_never_overwrites(service, lib, tmp_path: Path) -> None:
    from studio.core.importing.export import export_assets

    summary = service.import_paths([image(tmp_path / "photo.jpg", size=(12, 12))])
    out = tmp_path / "out"
    first = export_assets(lib, summary.imported, out)
    second = export_assets(lib, summary.imported, out)
    # The content is PNG, so the export says so; the second copy gets a new name.
    assert [p.name for p in first + second] == ["photo.png", "photo (2).png"]
    assert digest(second[0]) == summary.imported[0].sha256


def test_thumbnail_made_later_for_assets_added_elsewhere(service, lib, tmp_path: Path) -> None:
    gen, _ = lib.add_file(image(tmp_path / "g.png", size=(600, 400)),
                          origin=AssetOrigin.GENERATED, media_type="image/png")
    thumb = service.thumbnails.ensure(gen.sha256, lib.path_of(gen))
    from PIL import Image

    with Image.open(thumb) as img:
        assert img.size == (256, 171)
    audio, _ = lib.add_file(wav(tmp_path / "s.wav"), origin=AssetOrigin.IMPORTED,
                            media_type="audio/wav")
    with Image.open(service.thumbnails.ensure(audio.sha256, lib.path_of(audio))) as img:
        assert img.size == (256, 256)  # a drawn icon
    shutil.rmtree(service.thumbnails.root)
    assert not service.thumbnails.has(gen.sha256)
