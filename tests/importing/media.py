"""Media made at test time: real encoders (Pillow) for images, minimal valid containers for
video and audio (a box/chunk layout the sniffer and structure checks read)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from PIL import Image


def image(path: Path, fmt: str = "PNG", size: tuple[int, int] = (64, 48),
          colour: tuple[int, int, int] = (200, 80, 40)) -> Path:
    img = Image.new("RGB", size, colour)
    img.putpixel((0, 0), (size[0] % 256, size[1] % 256, 7))  # distinct bytes per size
    img.save(path, fmt)
    return path


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def bmff(path: Path, major: bytes, compatible: tuple[bytes, ...] = (b"isom",),
         payload: bytes = b"\x00" * 64) -> Path:
    ftyp = box(b"ftyp", major + b"\x00\x00\x02\x00" + b"".join(compatible))
    path.write_bytes(ftyp + box(b"mdat", payload))
    return path


def wav(path: Path, frames: int = 800) -> Path:
    data = b"\x00\x00" * frames
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + \
        struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims ``width`` x ``height`` (a decompression bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) +
                     chunk(b"IEND", b""))
    return path


def dng(path: Path) -> Path:
    """A little-endian TIFF whose first IFD carries the DNGVersion tag."""
    entries = [(256, 3, 1, 1), (257, 3, 1, 1), (50706, 1, 4, 0x00000401)]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", tag, typ, count, value) for tag, typ, count, value in entries
    ) + struct.pack("<I", 0)
    path.write_bytes(b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00" * 32)
    return path
