"""Thumbnail cache keyed by sha256: ``<cache>/thumbnails/ab/<sha256>.png``.

Images get a downscaled copy of their pixels; video, audio and formats Pillow cannot decode get
a drawn icon labelled with the format. Files are written atomically, so a reader on another
thread never sees half a PNG.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from studio.core.importing.probe import THUMB_SIZE, ProbeError, probe
from studio.core.importing.sniff import MediaFormat, MediaKind, sniff_file

if TYPE_CHECKING:
    from PIL.Image import Image

_COLOURS = {MediaKind.IMAGE: (70, 110, 150), MediaKind.VIDEO: (140, 70, 120),
            MediaKind.AUDIO: (60, 130, 95)}
_icon_lock = threading.Lock()


class ThumbnailCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.png"

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def save(self, sha256: str, image: Image | None, fmt: MediaFormat | None) -> Path:
        """Store ``image`` (or an icon for ``fmt`` when there is none) for ``sha256``."""
        out = image if image is not None else make_icon(fmt)
        dest = self.path_for(sha256)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-", suffix=".png")
        try:
            with os.fdopen(fd, "wb") as fh:
                out.save(fh, "PNG", compress_level=1)  # 256 px: speed over a few KB
            os.replace(tmp, dest)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return dest

    def ensure(self, sha256: str, media_path: Path) -> Path:
        """The cached thumbnail, made now from ``media_path`` if missing (e.g. a generated
        asset). A file that cannot be decoded gets an icon rather than an error."""
        dest = self.path_for(sha256)
        if dest.is_file():
            return dest
        fmt = sniff_file(media_path)  # OSError (e.g. a deleted asset) goes to the caller
        image = None
        if fmt is not None:
            try:
                image = probe(media_path, fmt).thumbnail
            except ProbeError:
                image = None
        return self.save(sha256, image, fmt)

    def remove(self, sha256: str) -> None:
        self.path_for(sha256).unlink(missing_ok=True)


def make_icon(fmt: MediaFormat | None) -> Image:
    """A plain tile: a play triangle for video, bars for audio, a frame for images."""
    from PIL import Image, ImageDraw, ImageFont

    kind = fmt.kind if fmt is not None else MediaKind.IMAGE
    size = THUMB_SIZE
    img = Image.new("RGB", (size, size), _COLOURS[kind])
    draw = ImageDraw.Draw(img)
    c = size // 2
    if kind is MediaKind.VIDEO:
        draw.polygon([(c - 40, c - 60), (c - 40, c + 40), (c + 50, c - 10)], fill="white")
    elif kind is MediaKind.AUDIO:
        for i, h in enumerate((30, 70, 110, 60, 90, 40, 20)):
            x = c - 84 + i * 26
            draw.rounded_rectangle([x, c - 10 - h // 2, x + 14, c - 10 + h // 2], 6, fill="white")
    else:
        draw.rectangle([c - 70, c - 70, c + 70, c + 50], outline="white", width=8)
    label = fmt.name if fmt is not None else "?"
    with _icon_lock:  # FreeType font objects are not meant to be shared across threads
        font = ImageFont.load_default(size=28)
        draw.text((c, size - 40), label, fill="white", font=font, anchor="mm")
    return img
