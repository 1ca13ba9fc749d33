"""Step previews that never wait for the GPU.

The preview is computed on the device (a linear latent-to-RGB map, or a tiny autoencoder's
decode when one is given), copied to the host without blocking, and handed out at a later step
once the copy has landed. Previews are also rate-limited in wall time, so even a per-step
request costs the denoising loop a negligible share of its time.
"""

from __future__ import annotations

import time
from typing import Any

from studio.core.generation.families import FamilyInfo
from studio.core.generation.transfer import HostCopy, start_copy


def _unpack(lat: Any, size: tuple[int, int] | None) -> Any:
    """FLUX packs latents as (tokens, C*4) over 2x2 patches; back to (C, h, w)."""
    tokens, width = lat.shape
    if size is not None:
        w, h = size[0] // 16, size[1] // 16
    else:
        w = h = int(tokens ** 0.5)
    if w * h != tokens or width % 4:
        return None
    c = width // 4
    return lat.reshape(h, w, c, 2, 2).permute(2, 0, 3, 1, 4).reshape(c, h * 2, w * 2)


def latents_to_rgb(latents: Any, info: FamilyInfo,
                   size: tuple[int, int] | None = None) -> Any:
    """(h, w, 3) uint8 on the latents' device for the first item of ``latents`` ((B, C, h, w),
    or FLUX's packed (B, tokens, C*4) with the image ``size``); None for a layout it does not
    know."""
    import torch

    with torch.no_grad():
        lat = latents[0].float()
        if lat.dim() == 2:
            lat = _unpack(lat, size)
        if lat is None or lat.dim() != 3:
            return None
        # Early-step latents carry the noise scale (sigma); normalise so the preview is
        # visible. A tensor op, not float(): reading the value would wait for the GPU.
        lat = lat / lat.std().clamp(min=1.0)
        if len(info.rgb_factors) == lat.shape[0]:
            factors = torch.tensor(info.rgb_factors, dtype=torch.float32, device=lat.device)
            bias = torch.tensor(info.rgb_bias, dtype=torch.float32, device=lat.device)
            rgb = torch.einsum("chw,cr->hwr", lat, factors) + bias
        else:
            # No published factors for this latent space (SD 3.5, FLUX, PixArt-Σ): three
            # channel-group means, a rough structure preview rather than colours.
            rgb = torch.stack([g.mean(0) for g in torch.tensor_split(lat, 3, dim=0)], dim=-1)
        return ((rgb.clamp(-1, 1) + 1) * 127.5).to(torch.uint8)


def to_image(rgb: Any, max_side: int = 256) -> Any:
    from PIL import Image

    arr = rgb.numpy()
    img = Image.fromarray(arr, "RGB")
    h, w = arr.shape[:2]
    factor = max(1, min(8, max_side // max(h, w)))
    return img.resize((w * factor, h * factor), Image.Resampling.BILINEAR)


def latents_to_preview(latents: Any, info: FamilyInfo, max_side: int = 256,
                       size: tuple[int, int] | None = None) -> Any:
    """A small PIL image of the first item of ``latents`` (waits for the device), or None."""
    rgb = latents_to_rgb(latents, info, size)
    return None if rgb is None else to_image(rgb.cpu(), max_side)


class PreviewPump:
    """Start a preview at most every ``min_interval`` seconds; hand it out once it is on the
    host. Call ``poll`` at every step and ``offer`` when a preview is due."""

    def __init__(self, info: FamilyInfo, min_interval: float = 0.25,
                 decoder: Any = None, size: tuple[int, int] | None = None) -> None:
        self.info = info
        self.size = size  # the image size: FLUX's packed latents need it to unpack
        self.min_interval = min_interval
        self.decoder = decoder  # an AutoencoderTiny, or None for the linear map
        self._pending: HostCopy | None = None
        self._last = -float("inf")

    def poll(self) -> Any:
        """The finished preview image, if one has landed since the last poll."""
        if self._pending is None or not self._pending.ready():
            return None
        rgb, self._pending = self._pending.tensor, None
        return to_image(rgb)

    def offer(self, latents: Any) -> Any:
        """Start a preview of ``latents`` if none is in flight and the interval has passed;
        returns the image at once when the copy is synchronous (CPU)."""
        now = time.monotonic()
        if self._pending is not None or now - self._last < self.min_interval:
            return None
        self._last = now
        rgb = None
        if self.decoder is not None:
            from studio.core.generation.preview_decoder import decode_preview

            rgb = decode_preview(self.decoder, latents)
        if rgb is None:
            rgb = latents_to_rgb(latents, self.info, self.size)
        if rgb is None:
            return None  # a latent layout without a preview
        self._pending = start_copy(rgb)
        return self.poll()
