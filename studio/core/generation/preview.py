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


def latents_to_rgb(latents: Any, info: FamilyInfo) -> Any:
    """(h, w, 3) uint8 on the latents' device for the first item of ``latents`` (B, 4, h, w)."""
    import torch

    with torch.no_grad():
        lat = latents[0].float()
        factors = torch.tensor(info.rgb_factors, dtype=torch.float32, device=lat.device)
        bias = torch.tensor(info.rgb_bias, dtype=torch.float32, device=lat.device)
        # Early-step latents carry the noise scale (sigma); normalise so the preview is
        # visible. A tensor op, not float(): reading the value would wait for the GPU.
        scale = lat.std().clamp(min=1.0)
        rgb = torch.einsum("chw,cr->hwr", lat / scale, factors) + bias
        return ((rgb.clamp(-1, 1) + 1) * 127.5).to(torch.uint8)


def to_image(rgb: Any, max_side: int = 256) -> Any:
    from PIL import Image

    arr = rgb.numpy()
    img = Image.fromarray(arr, "RGB")
    h, w = arr.shape[:2]
    factor = max(1, min(8, max_side // max(h, w)))
    return img.resize((w * factor, h * factor), Image.Resampling.BILINEAR)


def latents_to_preview(latents: Any, info: FamilyInfo, max_side: int = 256) -> Any:
    """A small PIL image of the first item of ``latents`` (waits for the device)."""
    return to_image(latents_to_rgb(latents, info).cpu(), max_side)


class PreviewPump:
    """Start a preview at most every ``min_interval`` seconds; hand it out once it is on the
    host. Call ``poll`` at every step and ``offer`` when a preview is due."""

    def __init__(self, info: FamilyInfo, min_interval: float = 0.25,
                 decoder: Any = None) -> None:
        self.info = info
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
        self._pending = start_copy(rgb if rgb is not None else latents_to_rgb(latents, self.info))
        return self.poll()
