"""Model families: detection from a diffusers folder's configs or a checkpoint's tensor names,
and the per-family facts the engine needs (defaults, pipeline class, preview factors, memory).

Per-family defaults follow the model authors' model cards (steps, guidance, native size).
``need_gib`` is the VRAM a family needs at fp16/bf16 with everything on the GPU (weights of all
components plus activations at the native size); the memory plan in ``devices.plan_memory``
compares it with the free VRAM (see docs/architecture.md, "Model families and memory").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from studio.core.generation.errors import ModelError


class Family(StrEnum):
    SD15 = "sd15"
    SD2 = "sd2"
    SDXL = "sdxl"
    SD_TURBO = "sd-turbo"
    SDXL_TURBO = "sdxl-turbo"
    SD3 = "sd3"  # SD 3.5 Medium / Large (and SD 3 Medium)
    SD3_TURBO = "sd3-turbo"  # SD 3.5 Large Turbo
    FLUX_DEV = "flux-dev"
    FLUX_SCHNELL = "flux-schnell"
    PIXART_SIGMA = "pixart-sigma"


@dataclass(frozen=True)
class FamilyInfo:
    label: str
    default_size: int
    xl: bool  # SDXL architecture (two text encoders, StableDiffusionXLPipeline)
    turbo: bool  # distilled: 1-4 steps, no guidance
    # Latent-to-RGB linear approximation (rows: latent channels) and bias, as used by the
    # common UIs (ComfyUI, A1111 "approx NN" cheap previews) for SD 1.x/2.x and SDXL latents.
    # Empty for families without published factors: the preview falls back to channel means.
    rgb_factors: tuple[tuple[float, float, float], ...]
    rgb_bias: tuple[float, float, float]
    pipeline: str = "StableDiffusionPipeline"  # diffusers class name
    default_steps: int = 25
    default_guidance: float = 7.0
    default_scheduler: str = "Euler a"
    flow: bool = False  # flow-matching model: its own FlowMatch scheduler only ("Euler")
    need_gib: float = 3.5  # VRAM for weights + activations at fp16, all on the GPU
    denoiser_gib: float = 1.6  # the UNet / transformer alone at fp16 (largest family member)
    img2img: bool = True
    call_kwargs: tuple[tuple[str, object], ...] = ()  # extra pipeline call arguments

    @property
    def schedulers(self) -> tuple[str, ...] | None:
        """The sampler names this family accepts (None: every name in SCHEDULERS)."""
        return ("Euler",) if self.flow else None


_SD_FACTORS = ((0.3512, 0.2297, 0.3227), (0.3250, 0.4974, 0.2350),
               (-0.2829, 0.1762, 0.2721), (-0.2120, -0.2616, -0.7177))
_XL_FACTORS = ((0.3651, 0.4232, 0.4341), (-0.2533, -0.0042, 0.1068),
               (0.1076, 0.1111, -0.0362), (-0.3165, -0.2492, -0.2188))
_XL_BIAS = (0.1084, -0.0175, -0.0011)
_NO_BIAS = (0.0, 0.0, 0.0)

FAMILIES: dict[Family, FamilyInfo] = {
    Family.SD15: FamilyInfo("SD 1.5", 512, False, False, _SD_FACTORS, _NO_BIAS),
    Family.SD2: FamilyInfo("SD 2.x", 768, False, False, _SD_FACTORS, _NO_BIAS, need_gib=4.5),
    Family.SDXL: FamilyInfo("SDXL", 1024, True, False, _XL_FACTORS, _XL_BIAS,
                            pipeline="StableDiffusionXLPipeline", default_steps=30,
                            default_guidance=6.0, need_gib=7.0, denoiser_gib=4.8),
    Family.SD_TURBO: FamilyInfo("SD-Turbo", 512, False, True, _SD_FACTORS, _NO_BIAS,
                                default_steps=4, default_guidance=0.0),
    Family.SDXL_TURBO: FamilyInfo("SDXL-Turbo", 512, True, True, _XL_FACTORS, _XL_BIAS,
                                  pipeline="StableDiffusionXLPipeline", default_steps=4,
                                  default_guidance=0.0, need_gib=7.0, denoiser_gib=4.8),
    Family.SD3: FamilyInfo("SD 3.5", 1024, False, False, (), _NO_BIAS,
                           pipeline="StableDiffusion3Pipeline", default_steps=28,
                           default_guidance=4.5, default_scheduler="Euler", flow=True,
                           need_gib=28.0, denoiser_gib=15.1),
    Family.SD3_TURBO: FamilyInfo("SD 3.5 Turbo", 1024, False, True, (), _NO_BIAS,
                                 pipeline="StableDiffusion3Pipeline", default_steps=4,
                                 default_guidance=0.0, default_scheduler="Euler", flow=True,
                                 need_gib=28.0, denoiser_gib=15.1),
    Family.FLUX_DEV: FamilyInfo("FLUX.1 [dev]", 1024, False, False, (), _NO_BIAS,
                                pipeline="FluxPipeline", default_steps=28, default_guidance=3.5,
                                default_scheduler="Euler", flow=True, need_gib=34.0,
                                denoiser_gib=22.2),
    Family.FLUX_SCHNELL: FamilyInfo("FLUX.1 [schnell]", 1024, False, True, (), _NO_BIAS,
                                    pipeline="FluxPipeline", default_steps=4,
                                    default_guidance=0.0, default_scheduler="Euler", flow=True,
                                    need_gib=34.0, denoiser_gib=22.2),
    Family.PIXART_SIGMA: FamilyInfo("PixArt-Σ", 1024, False, False, (), _NO_BIAS,
                                    pipeline="PixArtSigmaPipeline", default_steps=20,
                                    default_guidance=4.5, default_scheduler="DPM++ 2M",
                                    need_gib=12.0, denoiser_gib=1.1, img2img=False,
                                    # The studio asks for exact sizes; no aspect-ratio binning.
                                    call_kwargs=(("use_resolution_binning", False),
                                                 ("clean_caption", False))),
}

# Tensor names that only one architecture has (original LDM single-file layout).
_XL_KEY = "conditioner.embedders.1.model.transformer.resblocks"
_SD2_KEY = "cond_stage_model.model.transformer.resblocks"
_SD1_KEY = "cond_stage_model.transformer.text_model"
_UNET_KEY = "model.diffusion_model."
_SD3_KEY = "model.diffusion_model.joint_blocks."
_FLUX_KEYS = ("double_blocks.", "model.diffusion_model.double_blocks.")
_FLUX_GUIDANCE = "guidance_in."


def _turbo(base: Family, name_hint: str) -> Family:
    # Turbo checkpoints have their base model's tensors; only the name tells them apart.
    if "turbo" not in name_hint.lower():
        return base
    return {Family.SDXL: Family.SDXL_TURBO, Family.SD3: Family.SD3_TURBO}.get(
        base, Family.SD_TURBO)


def family_from_keys(keys: list[str], name_hint: str = "") -> Family:
    """Detect the family of an original-layout checkpoint from its tensor names."""
    if any(k.startswith(_FLUX_KEYS) for k in keys):
        # schnell was distilled without the guidance embedding that dev has.
        guided = any(_FLUX_GUIDANCE in k for k in keys)
        return Family.FLUX_DEV if guided else Family.FLUX_SCHNELL
    if any(k.startswith(_SD3_KEY) for k in keys):
        return _turbo(Family.SD3, name_hint)
    if not any(k.startswith(_UNET_KEY) for k in keys):
        raise ModelError("This checkpoint has no Stable Diffusion UNet, SD 3.5 or FLUX weights "
                         "(no 'model.diffusion_model.*' tensors); it may be a LoRA, a VAE or "
                         "another kind of model.")
    if any(k.startswith(_XL_KEY) for k in keys):
        return _turbo(Family.SDXL, name_hint)
    if any(k.startswith(_SD2_KEY) for k in keys):
        return _turbo(Family.SD2, name_hint)
    if any(k.startswith(_SD1_KEY) for k in keys):
        return Family.SD15
    raise ModelError("The checkpoint's text encoder is not one of SD 1.5, SD 2.x or SDXL.")


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"{path.name} is missing from the model folder {path.parent}.") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is not readable JSON ({exc}).") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path} does not hold a JSON object.")
    return data


def family_from_folder(folder: Path) -> Family:
    """Detect the family of a diffusers folder from model_index.json and its configs."""
    index = _read_json(folder / "model_index.json")
    cls = str(index.get("_class_name", ""))
    hint = f"{folder.name} {index.get('_name_or_path', '')}"
    if cls.startswith("StableDiffusion3"):
        return _turbo(Family.SD3, hint)
    if cls.startswith("Flux") and not cls.startswith("Flux2"):
        transformer = _read_json(folder / "transformer" / "config.json")
        return Family.FLUX_DEV if transformer.get("guidance_embeds") else Family.FLUX_SCHNELL
    if cls == "PixArtSigmaPipeline":
        return Family.PIXART_SIGMA
    if "XL" in cls:
        base = Family.SDXL
    elif cls.startswith("StableDiffusion"):
        unet = _read_json(folder / "unet" / "config.json")
        cross = unet.get("cross_attention_dim")
        base = Family.SD2 if cross == 1024 else Family.SD15
    else:
        raise ModelError(f"The folder holds a {cls or 'unknown'} pipeline; the studio runs "
                         "SD 1.5, SD 2.x, SDXL, SD-Turbo, SDXL-Turbo, SD 3.5, FLUX.1 and "
                         "PixArt-Σ models.")
    return _turbo(base, hint)


def denoiser_folder(family: Family) -> str:
    """The diffusers sub-folder that holds the denoising network."""
    return "unet" if FAMILIES[family].pipeline.startswith("StableDiffusion") and \
        FAMILIES[family].pipeline != "StableDiffusion3Pipeline" else "transformer"
