from __future__ import annotations

from pathlib import Path

import pytest

from studio.core.importing import sniff_bytes, sniff_file

from .media import bmff, dng, image, wav

PIL_FORMATS = [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"),
               ("WEBP", "image/webp"), ("TIFF", "image/tiff"), ("AVIF", "image/avif")]


@pytest.mark.parametrize(("pil", "mime"), PIL_FORMATS)
def test_images_sniffed_from_content_not_name(tmp_path: Path, pil: str, mime: str) -> None:
    path = image(tmp_path / "named.wrong", pil)
    fmt = sniff_file(path)
    assert fmt is not None and fmt.mime == mime


@pytest.mark.parametrize(("major", "compatible", "mime"), [
    (b"isom", (b"isom", b"mp41"), "video/mp4"),
    (b"qt  ", (b"qt  ",), "video/quicktime"),
    (b"M4A ", (b"M4A ", b"isom"), "audio/mp4"),
    (b"M4V ", (b"M4V ",), "video/x-m4v"),
    (b"heic", (b"mif1", b"heic"), "image/heic"),
    (b"mif1", (b"mif1", b"heic"), "image/heic"),
    (b"mif1", (b"mif1",), "image/heif"),
    (b"avif", (b"mif1", b"avif"), "image/avif"),
])
def test_iso_bmff_brands(tmp_path: Path, major: bytes, compatible: tuple, mime: str) -> None:
    fmt = sniff_file(bmff(tmp_path / "x.bin", major, compatible))
    assert fmt is not None and fmt.mime == mime


def test_audio_and_raw_signatures(tmp_path: Path) -> None:
    assert sniff_file(wav(tmp_path / "a")).mime == "audio/wav"
    assert sniff_file(dng(tmp_path / "b")).mime == "image/x-adobe-dng"
    assert sniff_bytes(b"ID3\x04\x00" + b"\x00" * 20).mime == "audio/mpeg"
    assert sniff_bytes(b"\xff\xfb\x90\x64" + b"\x00" * 20).mime == "audio/mpeg"  # bare frame
    assert sniff_bytes(b"fLaC\x00\x00\x00\x22").mime == "audio/flac"
    assert sniff_bytes(b"\xff\x0a\xfa\x1f").mime == "image/jxl"
    assert sniff_bytes(b"RIFF\x10\x00\x00\x00AVI LIST").mime == "video/x-msvideo"


@pytest.mark.parametrize("head", [b"", b"hello world", b"%PDF-1.7\n", b"PK\x03\x04zip",
                                  b"RIFF\x00\x00\x00\x00XXXX", b"\x00" * 64,
                                  b"<svg xmlns='http://www.w3.org/2000/svg'/>"])
def test_unsupported_content_is_none(head: bytes) -> None:
    assert sniff_bytes(head) is None


def test_shared_fixtures_sniffed(shared_media: Path) -> None:
    expected = {"A.jpg": "image/jpeg", "TUSCANY.TIF": "image/tiff", "mars.webp": "image/webp",
                "sample1.avif": "image/avif", "sample1.gif": "image/gif",
                "sample1.mp3": "audio/mpeg", "sample1.png": "image/png",
                "video1.mp4": "video/mp4", "file_with_wrong_extension.xyz.jpg": "image/jpeg",
                "README.md": None}
    got = {name: getattr(sniff_file(shared_media / name), "mime", None) for name in expected}
    assert got == expected
