"""Checks that a sniffed file is whole and safe before it enters the library.

Images Pillow decodes are decoded in full (a truncated or corrupt file fails here) under a
pixel limit that stops decompression bombs; container formats get a cheap structure walk
(box or chunk sizes must fit the file) so a cut-off video is caught without a decoder.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from studio.core.importing.sniff import DNG, MediaFormat

if TYPE_CHECKING:
    from PIL.Image import Image

# Pillow's own default (about 89 Mpx, a 9500 x 9500 image); more is treated as a bomb.
MAX_PIXELS = 89_478_485
THUMB_SIZE = 256
_PNG_PIECE = 1 << 20
_BMFF_MIMES = {"video/mp4", "video/x-m4v", "video/quicktime", "audio/mp4", "image/heic",
               "image/heif", "image/avif"}


class ProbeError(Exception):
    """The file is not acceptable; the message says why, in plain words."""


@dataclass
class ProbeResult:
    width: int | None = None
    height: int | None = None
    thumbnail: Image | None = None  # a small RGB(A) image, or None: use an icon


def probe(source: Path | bytes, fmt: MediaFormat, *, thumbnail: bool = True) -> ProbeResult:
    """Check a file, given by its path or (the import reads small files once) its whole
    content; both run the same checks, so a bad file gets the same reason either way.
    With ``thumbnail=False`` no thumbnail is made (the gallery makes one later for the rows
    it paints), so a PNG gets a chunk/CRC walk instead of a decode."""
    size = len(source) if isinstance(source, bytes) else os.stat(source).st_size
    if fmt.mime in _BMFF_MIMES:
        with _open(source) as fh:
            _check_bmff(fh, size)
    elif fmt.mime in ("audio/wav", "video/x-msvideo", "image/webp"):
        with _open(source) as fh:
            _check_riff(fh, size)
    if fmt.mime == "image/png" and not thumbnail:
        with _open(source) as fh:
            width, height = _check_png(fh)
        return ProbeResult(width, height)
    if fmt.decodable:
        return _decode_image(source, fmt, thumbnail)
    if fmt is DNG:
        try:  # DNG is TIFF-shaped: Pillow often reads its preview; no preview is no error
            return _decode_image(source, fmt)
        except ProbeError:
            return ProbeResult()
    return ProbeResult()


def _open(source: Path | bytes) -> AbstractContextManager[BinaryIO]:
    if isinstance(source, bytes):
        return nullcontext(io.BytesIO(source))
    return open(source, "rb")


def _decode_image(source: Path | bytes, fmt: MediaFormat,
                  thumbnail: bool = True) -> ProbeResult:
    from PIL import Image, ImageOps

    with warnings.catch_warnings():
        # Pillow warns between 1x and 2x its limit and raises above; both are refused here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise ProbeError(_bomb(width, height))
                if fmt.mime == "image/jpeg":
                    # Decode at reduced scale: the whole file is still read and checked.
                    # Without a thumbnail, grey output: every component's scans are still
                    # entropy-decoded (where damage shows), but colour is not converted.
                    want = THUMB_SIZE * 2 if thumbnail else 1
                    img.draft("RGB" if thumbnail else "L", (want, want))
                img.load()
                if not thumbnail:
                    return ProbeResult(width, height)
                thumb = ImageOps.exif_transpose(img) if fmt.mime != "image/gif" else img
                thumb = thumb.convert("RGBA" if "A" in thumb.getbands() or
                                      "transparency" in img.info else "RGB")
                thumb.thumbnail((THUMB_SIZE, THUMB_SIZE))
                return ProbeResult(width, height, thumb)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ProbeError(f"refused as a possible decompression bomb ({exc})") from exc
        except ProbeError:
            raise
        except (OSError, SyntaxError, ValueError, struct.error, EOFError,
                Image.UnidentifiedImageError) as exc:
            raise ProbeError(f"the {fmt.name} image is truncated or corrupt ({exc})") from exc


def _bomb(width: int, height: int) -> str:
    return (f"refused as a possible decompression bomb: {width} x {height} pixels is more "
            f"than the {MAX_PIXELS:,} allowed")


def _check_png(fh: BinaryIO) -> tuple[int, int]:
    """Walk the chunks up to IEND, checking each CRC (streamed: a huge chunk is not held in
    memory), the IHDR size against the bomb limit, and that image data is present. This
    catches truncation and corruption as a decode would, without inflating the pixels."""
    def corrupt(why: str) -> ProbeError:
        return ProbeError(f"the PNG image is truncated or corrupt ({why})")

    width = height = 0
    seen_idat = False
    if fh.read(8) != b"\x89PNG\r\n\x1a\n":
        raise corrupt("bad signature")
    first = True
    while True:
        header = fh.read(8)
        if len(header) < 8:
            raise corrupt("it ends before its IEND chunk")
        length, kind = struct.unpack(">I4s", header)
        if length > 0x7FFFFFFF:
            raise corrupt(f"bad chunk length {length}")
        name = kind.decode("latin-1", "replace")
        if first:
            if kind != b"IHDR" or length != 13:
                raise corrupt("the first chunk is not a valid IHDR")
            first = False
        crc = zlib.crc32(kind)
        left = length
        data = b""
        while left:
            piece = fh.read(min(left, _PNG_PIECE))
            if not piece:
                raise corrupt(f"chunk {name} is cut off")
            crc = zlib.crc32(piece, crc)
            if kind == b"IHDR":
                data += piece
            left -= len(piece)
        stored = fh.read(4)
        if len(stored) < 4:
            raise corrupt(f"chunk {name} is cut off")
        if struct.unpack(">I", stored)[0] != crc:
            raise corrupt(f"CRC mismatch in chunk {name}")
        if kind == b"IHDR":
            width, height = struct.unpack(">II", data[:8])
            if width == 0 or height == 0:
                raise corrupt(f"bad size {width} x {height}")
            if width * height > MAX_PIXELS:
                raise ProbeError(_bomb(width, height))
        elif kind == b"IDAT":
            seen_idat = True
        elif kind == b"IEND":
            break
    if not seen_idat:
        raise corrupt("no image data")
    return width, height


def _check_bmff(fh: BinaryIO, size: int) -> None:
    """Walk the top-level boxes: each must fit inside the file (a cut-off file fails)."""
    pos = 0
    while pos < size:
        fh.seek(pos)
        header = fh.read(16)
        if len(header) < 8:
            raise ProbeError(f"the file is truncated (incomplete box header at byte {pos})")
        box_size, box_type = struct.unpack(">I4s", header[:8])
        if box_size == 1:
            if len(header) < 16:
                raise ProbeError("the file is truncated (incomplete large box header)")
            (box_size,) = struct.unpack(">Q", header[8:16])
        elif box_size == 0:
            return  # the last box runs to the end of the file
        if box_size < 8:
            raise ProbeError(f"the file is corrupt (bad box size {box_size} at byte {pos})")
        if pos + box_size > size:
            name = box_type.decode("latin-1", "replace")
            raise ProbeError(f"the file is truncated (box '{name}' ends after the file)")
        pos += box_size


def _check_riff(fh: BinaryIO, size: int) -> None:
    header = fh.read(12)
    if len(header) < 12:
        raise ProbeError("the file is truncated (incomplete RIFF header)")
    (declared,) = struct.unpack("<I", header[4:8])
    if declared + 8 > size:
        raise ProbeError(f"the file is truncated ({size:,} bytes of the {declared + 8:,} "
                         "its header declares)")
