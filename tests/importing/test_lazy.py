"""The GUI's import mode: no eager thumbnails, PNGs checked by a chunk/CRC walk instead of a
decode. Every bad file is still rejected with its reason; thumbnails come later from
``ThumbnailCache.ensure`` (what the gallery calls for painted rows)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from studio.core.importing import ImportService

from .media import image
from .test_service import bad_corpus, reasons

__all__ = ["bad_corpus"]  # the shared fixture


@pytest.fixture
def lazy(lib, paths) -> ImportService:
    return ImportService.for_paths(lib, paths.cache_dir, eager_thumbnails=False)


def test_lazy_import_rejects_bad_files_with_reasons(lazy, lib, bad_corpus: Path) -> None:
    summary = lazy.import_paths([bad_corpus])
    got = reasons(summary)
    assert sorted(a.original_name for a in summary.imported) == sorted(
        ["good.png", "really-a-png.jpg", "ünï cödé 🎨 & 'q' \\ [1]\nline.png"])
    assert "truncated or corrupt" in got["truncated.jpg"]
    assert "CRC mismatch in chunk IDAT" in got["corrupt.png"]
    assert "decompression bomb" in got["bomb.png"]
    assert "decompression bomb" in got["bomb-soft.png"]
    assert "named .png" in got["fake.png"] and "empty" in got["empty.jpg"]
    assert len(got) == 13
    png = next(a for a in summary.imported if a.original_name == "really-a-png.jpg")
    assert (png.width, png.height) == (33, 21)
    assert lib.check_consistency().ok


def test_png_cut_anywhere_is_rejected(lazy, lib, tmp_path: Path) -> None:
    whole = image(tmp_path / "w.png", size=(120, 80), colour=(9, 8, 7)).read_bytes()
    for cut in (9, 20, 33, len(whole) // 2, len(whole) - 13, len(whole) - 1):
        path = tmp_path / f"cut{cut}.png"
        path.write_bytes(whole[:cut])
        summary = lazy.import_paths([path])
        assert not summary.imported, cut
        assert "truncated or corrupt" in summary.rejected[0].reason, cut
    no_idat = whole[:33] + whole[-12:]  # signature + IHDR + IEND
    (tmp_path / "noidat.png").write_bytes(no_idat)
    assert "no image data" in lazy.import_paths([tmp_path / "noidat.png"]).rejected[0].reason
    assert lib.count() == 0 and lib.check_consistency().ok


def test_thumbnails_are_made_later(lazy, lib, tmp_path: Path) -> None:
    files = [image(tmp_path / "a.png", size=(300, 200)),
             image(tmp_path / "b.jpg", "JPEG", size=(640, 480))]
    summary = lazy.import_paths(files)
    assert len(summary.imported) == 2
    for asset in summary.imported:
        assert not lazy.thumbnails.has(asset.sha256)
        with Image.open(lazy.thumbnails.ensure(asset.sha256, lib.path_of(asset))) as thumb:
            assert max(thumb.size) == 256
