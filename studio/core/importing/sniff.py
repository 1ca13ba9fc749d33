"""Media format sniffing from content (magic bytes), never from the file name.

A small table-driven sniffer: the formats the c2pa library reads are few and their signatures
are well known; ISO-BMFF files (MP4, MOV, M4A, HEIC, AVIF) are told apart by their ``ftyp``
brands and TIFF-based DNG by its DNGVersion tag.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

HEAD_SIZE = 64 * 1024  # enough for every signature and a DNG's first IFD in practice


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


@dataclass(frozen=True)
class MediaFormat:
    name: str  # short label shown to users: "PNG", "MP4"...
    mime: str
    ext: str  # the suffix the store uses, from the content
    kind: MediaKind
    # Pillow can decode it fully (so it is verified and thumbnailed from its pixels).
    decodable: bool = False


def _f(name: str, mime: str, ext: str, kind: MediaKind, decodable: bool = False) -> MediaFormat:
    return MediaFormat(name, mime, ext, kind, decodable)


IMG, V, A = MediaKind.IMAGE, MediaKind.VIDEO, MediaKind.AUDIO
PNG = _f("PNG", "image/png", ".png", IMG, True)
JPEG = _f("JPEG", "image/jpeg", ".jpg", IMG, True)
GIF = _f("GIF", "image/gif", ".gif", IMG, True)
WEBP = _f("WebP", "image/webp", ".webp", IMG, True)
AVIF = _f("AVIF", "image/avif", ".avif", IMG, True)
HEIC = _f("HEIC", "image/heic", ".heic", IMG)
HEIF = _f("HEIF", "image/heif", ".heif", IMG)
TIFF = _f("TIFF", "image/tiff", ".tif", IMG, True)
DNG = _f("DNG", "image/x-adobe-dng", ".dng", IMG)
JXL = _f("JPEG XL", "image/jxl", ".jxl", IMG)
MP4 = _f("MP4", "video/mp4", ".mp4", V)
M4V = _f("M4V", "video/x-m4v", ".m4v", V)
MOV = _f("QuickTime", "video/quicktime", ".mov", V)
AVI = _f("AVI", "video/x-msvideo", ".avi", V)
M4A = _f("M4A", "audio/mp4", ".m4a", A)
MP3 = _f("MP3", "audio/mpeg", ".mp3", A)
WAV = _f("WAV", "audio/wav", ".wav", A)
FLAC = _f("FLAC", "audio/flac", ".flac", A)

ALL_FORMATS = (PNG, JPEG, GIF, WEBP, AVIF, HEIC, HEIF, TIFF, DNG, JXL, MP4, M4V, MOV, AVI, M4A,
               MP3, WAV, FLAC)

# Fixed signatures at offset 0, checked in order.
_PREFIXES: list[tuple[bytes, MediaFormat]] = [
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"fLaC", FLAC),
    (b"ID3", MP3),
    (b"\xff\x0a", JXL),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", JXL),
]
_RIFF = {b"WEBP": WEBP, b"WAVE": WAV, b"AVI ": AVI}
_BRANDS: dict[bytes, MediaFormat] = {
    b"avif": AVIF, b"avis": AVIF,
    b"heic": HEIC, b"heix": HEIC, b"heim": HEIC, b"heis": HEIC, b"hevc": HEIC, b"hevx": HEIC,
    b"mif1": HEIF, b"msf1": HEIF,
    b"M4A ": M4A, b"M4B ": M4A, b"M4V ": M4V, b"M4VH": M4V, b"qt  ": MOV,
}
DNG_VERSION_TAG = 50706


def sniff_bytes(head: bytes) -> MediaFormat | None:
    """The format of a file whose first bytes are ``head``, or None if not supported media."""
    for magic, fmt in _PREFIXES:
        if head.startswith(magic):
            return fmt
    if head[:4] == b"RIFF" and len(head) >= 12:
        return _RIFF.get(head[8:12])
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return DNG if _is_dng(head) else TIFF
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and (head[1] & 0x06):
        return MP3  # an MPEG audio frame header without an ID3 tag (layer bits not 00)
    return None


def sniff_file(path: Path) -> MediaFormat | None:
    with open(path, "rb") as fh:
        return sniff_bytes(fh.read(HEAD_SIZE))


def _sniff_ftyp(head: bytes) -> MediaFormat | None:
    (size,) = struct.unpack(">I", head[:4])
    if size < 16 or size > len(head):
        size = min(max(size, 16), len(head))
    major = head[8:12]
    compatible = [head[i:i + 4] for i in range(16, size - 3, 4)]
    # HEIF stills often declare a generic major brand (mif1) and the codec in compatibles.
    for brand in (major, *compatible):
        fmt = _BRANDS.get(brand)
        if fmt is not None and fmt not in (HEIF,):
            return fmt
    if major in _BRANDS or any(b in _BRANDS for b in compatible):
        return HEIF
    return MP4  # isom, iso2..., mp41, mp42, avc1, dash: plain MP4


def _is_dng(head: bytes) -> bool:
    endian = "<" if head[:2] == b"II" else ">"
    try:
        (ifd,) = struct.unpack(endian + "I", head[4:8])
        (count,) = struct.unpack(endian + "H", head[ifd:ifd + 2])
        for i in range(count):
            at = ifd + 2 + 12 * i
            (tag,) = struct.unpack(endian + "H", head[at:at + 2])
            if tag == DNG_VERSION_TAG:
                return True
    except struct.error:
        return False  # the IFD lies beyond the head read: treat as plain TIFF
    return False
