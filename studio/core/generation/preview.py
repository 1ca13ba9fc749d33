"""Cheap step previews: a linear latent-to-RGB map instead of a VAE decode."""

from __future__ import annotations

from typing import Any

from studio.core.generation.families import FamilyInfo


def latents_to_preview(latents: Any, info: FamilyInfo, max_side: int = 256) -> Any:
    """A small PIL image of the first item of ``latents`` (B, 4, h, w)."""
    import torch
    from PIL import Image

    with torch.no_grad():
        lat = latents[0].float().cpu()
        factors = torch.tensor(info.rgb_factors, dtype=torch.float32)  # (4, 3)
        bias = torch.tensor(info.rgb_bias, dtype=torch.float32)
        # Early-step latents carry the noise scale (sigma); normalise so the preview is visible.
        scale = max(1.0, float(lat.std()))
        rgb = torch.einsum("chw,cr->hwr", lat / scale, factors) + bias
        arr = ((rgb.clamp(-1, 1) + 1) * 127.5).to(torch.uint8).numpy()
    img = Image.fromarray(arr, "RGB")
    h, w = arr.shape[:2]
    factor = max(1, min(8, max_side // max(h, w)))
    return img.resize((w * factor, h * factor), Image.Resampling.BILINEAR)
