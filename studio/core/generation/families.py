"""Model families: detection from a diffusers folder's configs or a checkpoint's tensor names,
and the per-family facts the engine needs (default size, preview factors, pipeline class)."""

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


@dataclass(frozen=True)
class FamilyInfo:
    label: str
    default_size: int
    xl: bool  # SDXL architecture (two text encoders, StableDiffusionXLPipeline)
    turbo: bool  # distilled: 1-4 steps, no guidance
    # Latent-to-RGB linear approximation (rows: latent channels) and bias, as used by the
    # common UIs (ComfyUI, A1111 "approx NN" cheap previews) for SD 1.x/2.x and SDXL latents.
    rgb_factors: tuple[tuple[float, float, float], ...]
    rgb_bias: tuple[float, float, float]


_SD_FACTORS = ((0.3512, 0.2297, 0.3227), (0.3250, 0.4974, 0.2350),
               (-0.2829, 0.1762, 0.2721), (-0.2120, -0.2616, -0.7177))
_XL_FACTORS = ((0.3651, 0.4232, 0.4341), (-0.2533, -0.0042, 0.1068),
               (0.1076, 0.1111, -0.0362), (-0.3165, -0.2492, -0.2188))
_XL_BIAS = (0.1084, -0.0175, -0.0011)

FAMILIES: dict[Family, FamilyInfo] = {
    Family.SD15: FamilyInfo("SD 1.5", 512, False, False, _SD_FACTORS, (0.0, 0.0, 0.0)),
    Family.SD2: FamilyInfo("SD 2.x", 768, False, False, _SD_FACTORS, (0.0, 0.0, 0.0)),
    Family.SDXL: FamilyInfo("SDXL", 1024, True, False, _XL_FACTORS, _XL_BIAS),
    Family.SD_TURBO: FamilyInfo("SD-Turbo", 512, False, True, _SD_FACTORS, (0.0, 0.0, 0.0)),
    Family.SDXL_TURBO: FamilyInfo("SDXL-Turbo", 512, True, True, _XL_FACTORS, _XL_BIAS),
}

# Tensor names that only one architecture has (original LDM single-file layout).
_XL_KEY = "conditioner.embedders.1.model.transformer.resblocks"
_SD2_KEY = "cond_stage_model.model.transformer.resblocks"
_SD1_KEY = "cond_stage_model.transformer.text_model"
_UNET_KEY = "model.diffusion_model."


def _turbo(base: Family, name_hint: str) -> Family:
    # Turbo checkpoints have their base model's tensors; only the name tells them apart.
    if "turbo" not in name_hint.lower():
        return base
    return Family.SDXL_TURBO if base is Family.SDXL else Family.SD_TURBO


def family_from_keys(keys: list[str], name_hint: str = "") -> Family:
    """Detect the family of an LDM-layout checkpoint from its tensor names."""
    if not any(k.startswith(_UNET_KEY) for k in keys):
        raise ModelError("This checkpoint has no Stable Diffusion UNet weights "
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
    """Detect the family of a diffusers folder from model_index.json and the UNet config."""
    index = _read_json(folder / "model_index.json")
    cls = str(index.get("_class_name", ""))
    if "XL" in cls:
        base = Family.SDXL
    elif cls.startswith("StableDiffusion"):
        unet = _read_json(folder / "unet" / "config.json")
        cross = unet.get("cross_attention_dim")
        base = Family.SD2 if cross == 1024 else Family.SD15
    else:
        raise ModelError(f"The folder holds a {cls or 'unknown'} pipeline; the studio runs "
                         "SD 1.5, SD 2.x, SDXL, SD-Turbo and SDXL-Turbo models.")
    return _turbo(base, f"{folder.name} {index.get('_name_or_path', '')}")
