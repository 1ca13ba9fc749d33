"""The image workspace behind the Generate canvas (Qt-free): the source image an edit starts
from, the edit mode, strength and outpaint margins, the painted mask with undo/redo, and the
slow edit operations (upscale, reuse settings, A1111 import, importing a dropped file), which
run through the operation runner.

The widgets only paint and bind: a test (or a script) can paint a mask with
``workspace.mask.paint([...])`` exactly as the canvas does."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from psygnal import Signal

from studio.core.generation.errors import GenerationError
from studio.services.studio import Studio

if TYPE_CHECKING:  # PIL loads with the first mask or source image, not with the section
    from PIL import Image

MODES = ("generate", "img2img", "inpaint", "outpaint")
UNDO_DEPTH = 30


class MaskModel:
    """A greyscale mask (255 = regenerate) at the source's size, painted in strokes."""

    changed = Signal()

    def __init__(self) -> None:
        self.image: Image.Image | None = None
        self.brush = 32  # diameter in source pixels
        self.feather = 4  # blur radius applied when the mask is used
        self.erasing = False
        self._undo: list[Image.Image] = []
        self._redo: list[Image.Image] = []

    def reset(self, size: tuple[int, int] | None) -> None:
        from PIL import Image

        self.image = Image.new("L", size, 0) if size else None
        self._undo.clear()
        self._redo.clear()
        self.changed.emit()

    def _checkpoint(self) -> None:
        if self.image is None:
            raise GenerationError("Choose a source image before painting a mask.")
        self._undo.append(self.image.copy())
        del self._undo[:-UNDO_DEPTH]
        self._redo.clear()

    def begin_stroke(self) -> None:
        self._checkpoint()

    def extend_stroke(self, points: list[tuple[float, float]],
                      erase: bool | None = None) -> None:
        """Draw a polyline with a round brush (the current stroke; no undo step)."""
        if self.image is None or not points:
            return
        fill = 0 if (self.erasing if erase is None else erase) else 255
        from PIL import ImageDraw

        draw = ImageDraw.Draw(self.image)
        r = max(1.0, self.brush / 2)
        if len(points) > 1:
            draw.line(points, fill=fill, width=max(1, int(self.brush)), joint="curve")
        for x, y in points:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
        self.changed.emit()

    def paint(self, points: list[tuple[float, float]], erase: bool | None = None) -> None:
        """One whole stroke (one undo step) through ``points`` in source pixels."""
        self.begin_stroke()
        self.extend_stroke(points, erase)

    def clear(self) -> None:
        self._checkpoint()
        assert self.image is not None
        from PIL import Image

        self.image = Image.new("L", self.image.size, 0)
        self.changed.emit()

    def invert(self) -> None:
        self._checkpoint()
        assert self.image is not None
        from PIL import ImageOps

        self.image = ImageOps.invert(self.image)
        self.changed.emit()

    def undo(self) -> bool:
        if not self._undo or self.image is None:
            return False
        self._redo.append(self.image)
        self.image = self._undo.pop()
        self.changed.emit()
        return True

    def redo(self) -> bool:
        if not self._redo or self.image is None:
            return False
        self._undo.append(self.image)
        self.image = self._redo.pop()
        self.changed.emit()
        return True

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def is_empty(self) -> bool:
        return self.image is None or self.image.getbbox() is None

    def export(self) -> Image.Image:
        """The mask the edit uses: the painted one, its edge feathered."""
        if self.image is None:
            raise GenerationError("There is no mask: choose a source image and paint on it.")
        if self.feather <= 0:
            return self.image.copy()
        from PIL import ImageFilter

        return self.image.filter(ImageFilter.GaussianBlur(self.feather))


class WorkspaceModel:
    source_changed = Signal(object)  # Asset | None
    mode_changed = Signal(str)

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.source: Any = None  # the library Asset an edit starts from
        self.source_size: tuple[int, int] | None = None
        self.mode = "generate"
        self.strength = 0.75
        self.margins = (0, 0, 0, 0)  # outpaint: left, top, right, bottom
        self.mask = MaskModel()

    # -- source and mode --------------------------------------------------------------------

    def use_source(self, asset_id: int) -> Any:
        """Make library asset ``asset_id`` the source ("Use as source", a drop)."""
        asset = self.studio.library.get(asset_id)
        if asset is None or not asset.media_type.startswith("image/"):
            raise GenerationError(f"Asset {asset_id} is not an image in the library.")
        size = (asset.width, asset.height) if asset.width and asset.height else None
        if size is None:
            from PIL import Image

            with Image.open(self.studio.library.path_of(asset)) as img:
                size = img.size
        self.source, self.source_size = asset, size
        self.mask.reset(size)
        if self.mode == "generate":
            self.set_mode("img2img")
        self.source_changed.emit(asset)
        return asset

    def clear_source(self) -> None:
        self.source = self.source_size = None
        self.mask.reset(None)
        self.set_mode("generate")
        self.source_changed.emit(None)

    def restore_mask(self, sha256: str) -> bool:
        """Load a stored mask (a reused inpaint request) as the painted mask (one undo step)."""
        from studio.core.generation.edit import load_mask_image, stored_mask

        data = stored_mask(self.studio.library, sha256)
        if data is None or self.mask.image is None:
            return False
        mask = load_mask_image(data)
        self.mask.begin_stroke()
        self.mask.image = mask.resize(self.mask.image.size) if mask.size != \
            self.mask.image.size else mask
        self.mask.changed.emit()
        return True

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        if mode != self.mode:
            self.mode = mode
            if mode == "outpaint" and self.strength < 1.0:
                self.strength = 1.0  # the new area starts from noise
            self.mode_changed.emit(mode)

    def output_size(self) -> tuple[int, int] | None:
        if self.source_size is None:
            return None
        w, h = self.source_size
        if self.mode == "outpaint":
            left, top, right, bottom = self.margins
            return w + left + right, h + top + bottom
        return w, h

    def edit_fields(self) -> dict[str, Any]:
        """Request fields for the current edit ({} for plain generation). Stores the mask."""
        from studio.core.generation.edit import processing_size, store_mask

        if self.mode == "generate" or self.source is None:
            return {}
        size = self.output_size()
        assert size is not None
        w, h = processing_size(*size)
        fields: dict[str, Any] = dict(init_asset_id=self.source.id,
                                      init_sha256=self.source.sha256, strength=self.strength,
                                      width=w, height=h)
        if self.mode == "inpaint":
            if self.mask.is_empty:
                raise GenerationError("Paint the area to regenerate first (the mask is empty).")
            fields["mask_sha256"] = store_mask(self.studio.library, self.mask.export())
        elif self.mode == "outpaint":
            if not any(self.margins):
                raise GenerationError("Choose how far to extend the image (outpaint margins).")
            fields.update(outpaint_left=self.margins[0], outpaint_top=self.margins[1],
                          outpaint_right=self.margins[2], outpaint_bottom=self.margins[3])
        return fields

    # -- slow work, through the runner ------------------------------------------------------

    def import_file(self, path: Path):
        """An operation importing a dropped file into the library; gives the asset."""
        library = self.studio.library

        def work() -> Any:
            from studio.core.library.models import AssetOrigin
            from studio.core.provenance.formats import sniff_mime

            data = Path(path).read_bytes()
            mime = sniff_mime(data[:64])
            if mime not in ("image/png", "image/jpeg", "image/webp"):
                raise GenerationError(f"{Path(path).name} is not a PNG, JPEG or WebP image.")
            from PIL import Image

            with Image.open(path) as img:
                size = img.size
            asset, new = library.add_bytes(data, suffix=Path(path).suffix, media_type=mime,
                                           origin=AssetOrigin.IMPORTED,
                                           original_name=Path(path).name,
                                           title=Path(path).stem, width=size[0],
                                           height=size[1])
            if new:
                self.studio.emit(self.studio.events.asset_added, asset.id)
            return asset

        return self.studio.runner.run(work, label=f"Importing {Path(path).name}")

    def upscale(self, asset_id: int, scale: int, model_id: str | None = None):
        """An operation upscaling an asset into a new signed one; gives the UpscaleResult."""
        studio = self.studio

        def work() -> Any:
            from studio.core.generation.devices import probe_device
            from studio.core.generation.upscale import UpscalerRegistry, upscale_asset

            lib = studio.library
            source = lib.get(asset_id)
            if source is None:
                raise GenerationError(f"Asset {asset_id} is not in the library any more.")
            model = UpscalerRegistry(lib).get(model_id) if model_id else None
            if model_id and model is None:
                raise GenerationError("That upscaler is not registered any more.")
            device = probe_device(studio.settings.generation.device).kind if model else "cpu"
            result = upscale_asset(lib, source, scale, model=model, device=device,
                                   sign=studio.signer().upscale)
            studio.emit(studio.events.asset_added, result.asset.id)
            return result

        return studio.runner.run(work, label=f"Upscaling {scale}×")

    def add_upscaler(self, path: Path):
        """An operation registering (and hashing, once) an upscaler model file."""
        from studio.core.generation.upscale import UpscalerRegistry

        registry = UpscalerRegistry(self.studio.library)
        return self.studio.runner.run(lambda: registry.add(Path(path)),
                                      label=f"Adding {Path(path).name}")

    def upscalers(self) -> list[Any]:
        from studio.core.generation.upscale import UpscalerRegistry

        return UpscalerRegistry(self.studio.library).list()

    def reuse(self, spec: str):
        """An operation reading the request recorded in an asset's (or file's) credentials."""
        from studio.core.generation.reuse import reuse_request

        return self.studio.runner.run(lambda: reuse_request(self.studio.library, spec),
                                      label="Reading the settings")

    def import_parameters(self, path: Path, entries: list[Any], base: Any):
        """An operation mapping a PNG's A1111 ``parameters`` to (request, not mapped)."""
        from studio.core.generation.a1111 import parameters_from_png, request_from_parameters

        def work() -> Any:
            text = parameters_from_png(Path(path).read_bytes())
            return request_from_parameters(text, entries, base)

        return self.studio.runner.run(work, label="Reading the PNG's settings")

    def history(self, text: str = "", model_id: str | None = None) -> list[Any]:
        from studio.core.generation.history import PromptHistory

        return PromptHistory(self.studio.library).search(text, model_id)
