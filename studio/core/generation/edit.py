"""Image edits on a source asset: img2img, inpaint (a painted mask) and outpaint (a larger
canvas whose new area is the mask).

The pipeline works at the request's size (a multiple of 8); its result is resized back to the
output size and composited over the source through the mask, so every pixel the mask leaves
out is the source's pixel, bit for bit. Masks are stored in the library by their hash
(``generation_masks``), so a request that names one can be replayed and its credentials can
record the mask as an input.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from studio.core.generation.errors import GenerationError, RequestError
from studio.core.generation.request import GenerationRequest
from studio.core.library import Library

MAX_MASK_BYTES = 64 * 1024 * 1024


def mask_png(mask: Image.Image) -> bytes:
    """The canonical stored form of a mask: 8-bit greyscale PNG, no metadata."""
    buf = io.BytesIO()
    mask.convert("L").save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def load_mask_image(data: bytes) -> Image.Image:
    """A mask from any image file: alpha when it has transparency, else its luminance.
    White (or opaque) = regenerate."""
    if len(data) > MAX_MASK_BYTES:
        raise RequestError("The mask file is too large.")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
                return img.convert("RGBA").getchannel("A")
            return img.convert("L")
    except (OSError, UnidentifiedImageError) as exc:
        raise RequestError(f"The mask cannot be read as an image: {exc}") from exc


def store_mask(library: Library, mask: Image.Image) -> str:
    """Keep a mask in the library; returns its sha256 (what a request names)."""
    import hashlib

    data = mask_png(mask)
    sha = hashlib.sha256(data).hexdigest()
    with library.transaction() as conn:
        conn.execute("INSERT OR IGNORE INTO generation_masks VALUES (?,?,?,?,?)",
                     (sha, data, mask.width, mask.height, time.time()))
    return sha


def stored_mask(library: Library, sha256: str) -> bytes | None:
    rows = library.query("SELECT png FROM generation_masks WHERE sha256 = ?", (sha256.lower(),))
    return bytes(rows[0][0]) if rows else None


def source_image(library: Library, req: GenerationRequest) -> Image.Image:
    """The request's source asset as RGB, checked against the hash the request pins."""
    asset = library.get(req.init_asset_id) if req.init_asset_id is not None else None
    if asset is None and req.init_sha256:
        asset = library.get_by_sha256(req.init_sha256)  # a reused request from elsewhere
    if asset is None:
        raise GenerationError(f"The source image (asset {req.init_asset_id}) is not in the "
                              "library any more.")
    if req.init_sha256 and asset.sha256 != req.init_sha256.lower():
        raise GenerationError("The source image's hash does not match the request.")
    try:
        with Image.open(library.path_of(asset)) as img:
            return img.convert("RGB")
    except (OSError, UnidentifiedImageError) as exc:
        raise GenerationError(f"The source image cannot be read: {exc}") from exc


def outpaint_canvas(source: Image.Image, margins: tuple[int, int, int, int]
                    ) -> tuple[Image.Image, Image.Image]:
    """(canvas, mask) for outpainting: the source in the middle, the new area filled by
    stretching the source's edge pixels (a neutral start for the denoiser), and a mask that
    is white exactly over the new area."""
    import numpy as np

    left, top, right, bottom = margins
    arr = np.asarray(source.convert("RGB"))
    padded = np.pad(arr, ((top, bottom), (left, right), (0, 0)), mode="edge")
    canvas = Image.fromarray(padded)
    # Blur the stretched bands so the start is not streaks; the source region is restored
    # from the original pixels below.
    canvas = canvas.filter(ImageFilter.GaussianBlur(8))
    canvas.paste(source, (left, top))
    mask = Image.new("L", canvas.size, 255)
    mask.paste(0, (left, top, left + source.width, top + source.height))
    return canvas, mask


@dataclass
class EditPlan:
    """What one edit job feeds the pipeline, and how its result becomes the output."""

    mode: str
    canvas: Image.Image  # the image the edit starts from, at the output size
    mask: Image.Image | None  # L, at the output size; None for plain img2img

    def pipe_kwargs(self, req: GenerationRequest) -> dict[str, Any]:
        size = (req.width, req.height)
        kwargs: dict[str, Any] = {
            "image": self.canvas.resize(size, Image.Resampling.LANCZOS),
            "strength": req.strength}
        if self.mask is not None:
            kwargs.update(mask_image=self.mask.resize(size, Image.Resampling.LANCZOS),
                          width=req.width, height=req.height)
        return kwargs

    def finish(self, image: Image.Image) -> Image.Image:
        """The pipeline's result at the output size, with the unmasked pixels put back."""
        if self.mask is None:
            return image  # img2img: the whole image is new, at the request's size
        result = image.convert("RGB").resize(self.canvas.size, Image.Resampling.LANCZOS)
        # mask 0 -> the canvas pixel exactly; 255 -> the generated one; feathered edges blend.
        return Image.composite(result, self.canvas, self.mask)


def prepare(library: Library, req: GenerationRequest) -> EditPlan:
    source = source_image(library, req)
    mode = req.mode
    if mode == "outpaint":
        canvas, mask = outpaint_canvas(source, req.outpaint)
        return EditPlan(mode, canvas, mask)
    if mode == "inpaint":
        data = stored_mask(library, req.mask_sha256 or "")
        if data is None:
            raise GenerationError("The inpaint mask named by this request is not in the "
                                  "library; paint or load the mask again.")
        mask = load_mask_image(data)
        if mask.size != source.size:
            # A mask painted at another size still covers the same area.
            mask = mask.resize(source.size, Image.Resampling.LANCZOS)
        if not mask.getbbox():
            raise GenerationError("The mask is empty: paint the area to regenerate.")
        return EditPlan(mode, source, mask)
    return EditPlan(mode, source, None)


def mask_for(library: Library, req: GenerationRequest) -> bytes | None:
    """The mask a request used, as PNG bytes (for its credentials), or None."""
    if req.mode == "inpaint":
        return stored_mask(library, req.mask_sha256 or "")
    if req.mode == "outpaint":
        w, h = source_image(library, req).size
        left, top, right, bottom = req.outpaint
        mask = Image.new("L", (w + left + right, h + top + bottom), 255)
        mask.paste(0, (left, top, left + w, top + h))
        return mask_png(mask)
    return None


def processing_size(width: int, height: int, limit: int = 2048) -> tuple[int, int]:
    """A pipeline size for an output of ``width`` x ``height``: multiples of 8, the long edge
    at most ``limit``, the aspect kept (the result is resized back to the output size)."""
    scale = min(1.0, limit / max(width, height))
    w, h = (max(64, int(v * scale) // 8 * 8) for v in (width, height))
    return w, h


def invert_mask(mask: Image.Image) -> Image.Image:
    return ImageOps.invert(mask.convert("L"))
