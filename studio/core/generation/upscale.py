"""Upscaling 2x / 4x: ESRGAN-family models through spandrel (run in tiles, so a 4x of a
1024² image stays well inside 8 GB), or plain Lanczos resampling with no model.

Each upscale is a new signed asset whose credentials name the source as the parent and record
``c2pa.resized`` with how it was done. Worker-thread / CLI only (imports torch lazily).
"""

from __future__ import annotations

import io
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from studio.core.generation.errors import GenerationError, ModelError
from studio.core.library import Library
from studio.core.library.models import Asset, AssetOrigin

SCALES = (2, 4)
MAX_OUTPUT_EDGE = 16384
TILE = 256  # input pixels per tile side; at 4x an RRDB tile needs well under 1 GB at fp16
TILE_PAD = 16  # context around each tile, cropped away, so the seams do not show
Progress = Callable[[int, int], None]  # (tiles done, tiles total)


@dataclass(frozen=True)
class UpscalerEntry:
    id: str
    name: str
    path: str
    architecture: str
    scale: int
    sha256: str
    size: int
    added_at: float

    @property
    def label(self) -> str:
        return f"{self.name} ({self.architecture} {self.scale}×)"


def import_spandrel() -> Any:
    """spandrel, imported even where torchvision cannot be (PyPI's torchvision wheels need a
    CUDA torch): spandrel only calls torchvision for two face/inpaint architectures
    (RestoreFormer, LaMa), never for the ESRGAN family, so a stand-in that refuses those two
    calls is put in place for the import and removed right after."""
    if "spandrel" in sys.modules:
        return sys.modules["spandrel"]
    try:
        import torchvision  # noqa: F401
    except Exception:
        names = ("torchvision", "torchvision.transforms", "torchvision.transforms.functional")
        stand_in = {n: types.ModuleType(n) for n in names}

        def unavailable(*_a: Any, **_k: Any) -> Any:
            raise ModelError("This upscaler architecture needs torchvision, which is not "
                             "installed with this PyTorch build.")

        functional = stand_in["torchvision.transforms.functional"]
        functional.normalize = functional.rotate = unavailable  # type: ignore[attr-defined]
        functional.InterpolationMode = type("InterpolationMode", (), {})  # type: ignore
        stand_in["torchvision"].transforms = stand_in["torchvision.transforms"]  # type: ignore
        stand_in["torchvision.transforms"].functional = functional  # type: ignore
        saved = {n: sys.modules.get(n) for n in names}
        sys.modules.update(stand_in)
        try:
            import spandrel
        finally:
            for n, mod in saved.items():
                if mod is None:
                    sys.modules.pop(n, None)
                else:
                    sys.modules[n] = mod
        return spandrel
    import spandrel

    return spandrel


def load_descriptor(path: Path) -> Any:
    """spandrel's model descriptor for ``path``; anything but a 2x-8x image upscaler is a
    ModelError the user can act on."""
    if path.suffix.lower() not in (".safetensors", ".pth"):
        raise ModelError(f"{path.name}: upscalers are .safetensors or .pth files.")
    if not path.is_file():
        raise ModelError(f"The upscaler {path} does not exist (any more).")
    spandrel = import_spandrel()
    try:
        desc = spandrel.ModelLoader().load_from_file(str(path))
    except Exception as exc:  # spandrel raises many types for unknown or broken files
        raise ModelError(f"{path.name} is not an upscaler model spandrel knows: {exc}") from exc
    if not isinstance(desc, spandrel.ImageModelDescriptor) or desc.scale < 2:
        raise ModelError(f"{path.name} is a {desc.architecture.name} model, not an upscaler.")
    return desc


UPSCALER_FAMILY = "upscaler"  # how the model manager lists them beside the diffusion families


class UpscalerRegistry:
    """Upscaler models known to the studio (the ``upscale_models`` table)."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def add(self, path: Path, *, name: str = "") -> UpscalerEntry:
        from studio.core.generation.registry import ModelRegistry

        path = Path(path).expanduser().resolve()
        existing = self.get(str(path))
        if existing is not None:
            return existing
        desc = load_descriptor(path)
        sha = ModelRegistry(self.library).file_sha256(path)
        for e in self.list():
            if e.sha256 == sha:
                return e
        entry = UpscalerEntry(sha[:12], name or path.stem, str(path), desc.architecture.name,
                              int(desc.scale), sha, path.stat().st_size, time.time())
        with self.library.transaction() as conn:
            conn.execute("INSERT INTO upscale_models VALUES (?,?,?,?,?,?,?,?)",
                         (entry.id, entry.name, entry.path, entry.architecture, entry.scale,
                          entry.sha256, entry.size, entry.added_at))
        return entry

    def list(self) -> list[UpscalerEntry]:
        rows = self.library.query("SELECT * FROM upscale_models ORDER BY added_at, id")
        return [UpscalerEntry(r["id"], r["name"], r["path"], r["architecture"], r["scale"],
                              r["sha256"], r["size"], r["added_at"]) for r in rows]

    def search(self, text: str = "") -> list[UpscalerEntry]:
        """Upscalers whose name, path or architecture contains ``text`` (any case)."""
        needle = text.lower()
        return [e for e in self.list()
                if needle in f"{e.name} {e.path} {e.architecture}".lower()]

    def get(self, id_or_path: str) -> UpscalerEntry | None:
        for e in self.list():
            if id_or_path in (e.id, e.path, e.name) or e.id.startswith(id_or_path):
                return e
        return None

    def remove(self, model_id: str) -> bool:
        with self.library.transaction() as conn:
            return conn.execute("DELETE FROM upscale_models WHERE id = ?",
                                (model_id,)).rowcount > 0


def lanczos(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    return image.resize(size, Image.Resampling.LANCZOS)


def run_tiled(desc: Any, image: Image.Image, device: str, *, tile: int = TILE,
              progress: Progress | None = None,
              cancelled: Callable[[], bool] | None = None) -> Image.Image:
    """``desc`` (a spandrel descriptor) over ``image`` in overlapping tiles; only the middle of
    each tile is kept. Peak memory is one tile's activations, whatever the image size."""
    import numpy as np
    import torch

    scale = int(desc.scale)
    half = device == "cuda" and desc.supports_half
    desc.to(device)
    desc.eval()
    if half:
        desc.half()
    src = torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0)
    src = src.permute(2, 0, 1).unsqueeze(0)  # 1x3xHxW on the CPU
    _, _, h, w = src.shape
    out = np.zeros((h * scale, w * scale, 3), dtype=np.uint8)
    boxes = [(y, x) for y in range(0, h, tile) for x in range(0, w, tile)]
    for n, (y, x) in enumerate(boxes):
        if cancelled is not None and cancelled():
            raise GenerationError("The upscale was cancelled.")
        y1, x1 = min(y + tile, h), min(x + tile, w)
        py0, px0 = max(0, y - TILE_PAD), max(0, x - TILE_PAD)
        py1, px1 = min(h, y1 + TILE_PAD), min(w, x1 + TILE_PAD)
        piece = src[:, :, py0:py1, px0:px1].to(device)
        with torch.inference_mode():
            res = desc(piece.half() if half else piece).float().clamp_(0, 1)
        res = res[0].permute(1, 2, 0).cpu().numpy()
        cy, cx = (y - py0) * scale, (x - px0) * scale
        core = res[cy:cy + (y1 - y) * scale, cx:cx + (x1 - x) * scale]
        out[y * scale:y1 * scale, x * scale:x1 * scale] = (core * 255.0 + 0.5).astype(np.uint8)
        if progress is not None:
            progress(n + 1, len(boxes))
    return Image.fromarray(out)


@dataclass(frozen=True)
class UpscaleResult:
    asset: Asset
    info: dict[str, Any]


def upscale_asset(library: Library, source: Asset, scale: int, *,
                  model: UpscalerEntry | None = None, device: str = "cpu",
                  sign: Callable[[bytes, dict[str, Any], Asset], bytes] | None = None,
                  tile: int = TILE, progress: Progress | None = None,
                  cancelled: Callable[[], bool] | None = None) -> UpscaleResult:
    """Upscale a library image ``scale`` times into a new (signed) asset."""
    if scale not in SCALES:
        raise GenerationError(f"The upscale factor must be one of {SCALES}, not {scale}.")
    if not source.media_type.startswith("image/"):
        raise GenerationError(f"Asset {source.id} is {source.media_type}, not an image.")
    try:
        with Image.open(library.path_of(source)) as img:
            image = img.convert("RGB")
    except (OSError, UnidentifiedImageError) as exc:
        raise GenerationError(f"The source image cannot be read: {exc}") from exc
    target = (image.width * scale, image.height * scale)
    if max(target) > MAX_OUTPUT_EDGE:
        raise GenerationError(f"{target[0]}x{target[1]} is too large (at most "
                              f"{MAX_OUTPUT_EDGE} pixels a side); choose a smaller factor.")
    t0 = time.monotonic()
    info: dict[str, Any] = {"scale": scale, "source_sha256": source.sha256,
                            "width": target[0], "height": target[1]}
    if model is None:
        result = lanczos(image, target)
        info["method"] = "lanczos"
    else:
        desc = load_descriptor(Path(model.path))
        result = run_tiled(desc, image, device, tile=tile, progress=progress,
                           cancelled=cancelled)
        if result.size != target:  # e.g. a 4x model asked for 2x: resample its output
            result = lanczos(result, target)
        info.update(method="model", model=model.name, model_sha256=model.sha256,
                    architecture=model.architecture, model_scale=model.scale, tile=tile)
    buf = io.BytesIO()
    result.save(buf, format="PNG")
    data = buf.getvalue()
    if sign is not None:
        data = sign(data, info, source)
    title = f"{(source.title or source.original_name or 'image')[:100]} (upscaled {scale}×)"
    asset, _new = library.add_bytes(
        data, suffix=".png", origin=AssetOrigin.GENERATED, media_type="image/png", title=title,
        original_name=f"upscaled-{scale}x-{source.sha256[:12]}.png",
        width=result.width, height=result.height)
    info["seconds"] = round(time.monotonic() - t0, 3)
    return UpscaleResult(asset, info)
