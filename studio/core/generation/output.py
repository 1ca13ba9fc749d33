"""The output step: PNG bytes with an A1111 ``parameters`` chunk, then signing, then the library.

Provenance plugs in through ``sign``: it receives the finished PNG bytes and returns the signed
bytes. Nothing touches the bytes after ``sign``.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable
from typing import Any

from PIL import Image, PngImagePlugin

from studio import APP_NAME, __version__
from studio.core.generation.request import GenerationRequest
from studio.core.library import Library
from studio.core.library.models import Asset, AssetOrigin

# sign(png, item_request, seed[, producer=...]) -> signed bytes
SignFn = Callable[..., bytes]


def _a1111_name(name: str) -> str:
    return "".join(c for c in name if c not in ',:"').strip() or "lora"


def a1111_parameters(request: GenerationRequest) -> str:
    """The ``parameters`` text A1111, ComfyUI and Civitai read back (one item's request)."""
    lines = [request.prompt]
    if request.negative_prompt:
        lines.append(f"Negative prompt: {request.negative_prompt}")
    guidance = f"{request.guidance:g}"
    fields = [
        f"Steps: {request.steps}", f"Sampler: {request.scheduler}", f"CFG scale: {guidance}",
        f"Seed: {request.seed}", f"Size: {request.width}x{request.height}",
        f"Model hash: {request.model_sha256[:10]}",
    ]
    if request.model_name:
        fields.append(f"Model: {request.model_name.replace(',', ' ')}")
    if request.loras:
        # A1111's own format: names and AutoV3 short hashes, quoted as one value.
        hashes = ", ".join(f"{_a1111_name(lo.name or lo.id)}: {(lo.autov3 or lo.sha256)[:12]}"
                           for lo in request.loras)
        fields.append(f'Lora hashes: "{hashes}"')
    if request.is_img2img:
        fields.append(f"Denoising strength: {request.strength:g}")
    fields.append(f"Version: {APP_NAME} {__version__}")
    lines.append(", ".join(fields))
    return "\n".join(lines)


def png_bytes(image: Image.Image, request: GenerationRequest) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", a1111_parameters(request))
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def store_output(library: Library, image: Image.Image, request: GenerationRequest, index: int,
                 seed: int, *, sign: SignFn | None = None,
                 timings: dict[str, Any] | None = None) -> Asset:
    """Build the PNG for batch item ``index`` (its ``seed``), sign it if asked, store it with
    its generation record, and return the asset."""
    item = request.for_item(index)
    assert item.seed == seed, "the seed of item i is request.seed + i"
    return store_png(library, png_bytes(image, item), item, index, sign=sign, timings=timings)


def store_png(library: Library, data: bytes, item: GenerationRequest, index: int, *,
              sign: SignFn | None = None, timings: dict[str, Any] | None = None,
              producer: dict[str, str] | None = None,
              before_store: Callable[[str], None] | None = None) -> Asset:
    """Sign an unsigned output PNG of ``item`` (one item's request), then store and record it.

    The one path every output takes, whether the engine made it here or a batch backend made
    it elsewhere. ``producer`` (backend, device, node) goes into the manifest when given;
    ``before_store(sha256)`` lets a caller persist the signed file's hash before it is stored.
    """
    seed = item.seed
    if sign is not None:
        data = sign(data, item, seed, producer=producer) if producer else sign(data, item, seed)
    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
    if before_store is not None:
        before_store(hashlib.sha256(data).hexdigest())
    asset, _new = library.add_bytes(
        data, suffix=".png", origin=AssetOrigin.GENERATED, media_type="image/png",
        title=item.prompt[:120], original_name=f"generated-{seed}.png",
        width=width, height=height)
    record_generation(library, asset.id, item, index, timings)
    return asset


def record_generation(library: Library, asset_id: int, item: GenerationRequest, index: int,
                      timings: dict[str, Any] | None = None) -> None:
    t = timings or {}
    with library.transaction() as conn:
        conn.execute(
            "INSERT INTO generations(asset_id, request_json, model_sha256, prompt, seed,"
            " item_index, load_s, run_s, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (asset_id, item.to_json(), item.model_sha256, item.prompt, item.seed, index,
             t.get("load_s"), t.get("run_s"), time.time()))


def generation_record(library: Library, asset_id: int) -> dict[str, Any] | None:
    """The latest generation record of an asset (request, model hash, timings)."""
    rows = library.query("SELECT * FROM generations WHERE asset_id = ? ORDER BY id DESC LIMIT 1",
                         (asset_id,))
    if not rows:
        return None
    r = rows[0]
    return {"asset_id": r["asset_id"], "request": GenerationRequest.from_json(r["request_json"]),
            "model_sha256": r["model_sha256"], "seed": r["seed"], "index": r["item_index"],
            "load_s": r["load_s"], "run_s": r["run_s"], "created_at": r["created_at"]}
