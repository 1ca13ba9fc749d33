"""Media type from the file's first bytes, so a wrong extension does not matter."""

from __future__ import annotations

from pathlib import Path

_FTYP_BRANDS = {
    b"avif": "image/avif", b"avis": "image/avif", b"heic": "image/heic", b"heix": "image/heic",
    b"mif1": "image/heif", b"msf1": "image/heif", b"qt  ": "video/quicktime",
    b"M4A ": "audio/mp4",
}


def sniff_mime(head: bytes) -> str | None:
    """The MIME type for a file starting with ``head`` (>= 16 bytes), or None if unknown."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/avi"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(head[8:12], "video/mp4")
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if head.startswith(b"%PDF"):
        return "application/pdf"
    stripped = head.lstrip()
    if stripped.startswith(b"<svg") or (stripped.startswith(b"<?xml") and b"<svg" in head):
        return "image/svg+xml"
    return None


def sniff_file(path: Path) -> str | None:
    with open(path, "rb") as fh:
        return sniff_mime(fh.read(512))


SUFFIX_FOR = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp",
              "image/gif": ".gif", "image/tiff": ".tif", "image/avif": ".avif",
              "image/heic": ".heic", "video/mp4": ".mp4", "audio/mpeg": ".mp3",
              "audio/wav": ".wav", "application/pdf": ".pdf", "image/svg+xml": ".svg"}
