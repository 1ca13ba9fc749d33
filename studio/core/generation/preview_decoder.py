"""Tiny-autoencoder previews (TAESD family): a real decode of the step's latents in a few
milliseconds instead of the linear latent-to-RGB guess.

The weights are a diffusers ``AutoencoderTiny`` folder (e.g. madebyollin/taesd for SD 1.x/2.x,
taesdxl for SDXL) set in Settings (``generation.preview_decoder_sd`` / ``_sdxl``). Loaded on
the worker the first time a job of that family runs; a missing or broken folder falls back to
the linear preview with a logged reason, never failing the job.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def decoder_path(settings: Any, xl: bool) -> str:
    return (settings.preview_decoder_sdxl if xl else settings.preview_decoder_sd).strip()


def load_preview_decoder(folder: str, device: str, dtype: Any) -> Any | None:
    """The ``AutoencoderTiny`` at ``folder`` on ``device``, or None (with a log line)."""
    path = Path(folder).expanduser()
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        if config.get("_class_name") != "AutoencoderTiny":
            raise ValueError(f"it holds a {config.get('_class_name')!r}, not an AutoencoderTiny")
        from diffusers import AutoencoderTiny

        decoder = AutoencoderTiny.from_pretrained(str(path), local_files_only=True)
    except Exception as exc:  # OSError, JSON, diffusers' own errors: a preview is optional
        log.warning("preview decoder %s not usable (%s); using the linear preview", path, exc)
        return None
    decoder.requires_grad_(False)
    return decoder.to(device=device, dtype=dtype).eval()


def decode_preview(decoder: Any, latents: Any) -> Any | None:
    """(H, W, 3) uint8 on the device for the first item, or None when the latents do not fit
    this decoder (packed transformer latents, another channel count)."""
    import torch

    if latents.ndim != 4 or latents.shape[1] != decoder.config.latent_channels:
        return None
    with torch.no_grad():
        image = decoder.decode(latents[:1].to(decoder.dtype)).sample[0]  # (3, H, W) in [-1, 1]
        return ((image.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0)
