"""Sampler names users know (A1111 naming) mapped to diffusers scheduler classes."""

from __future__ import annotations

from typing import Any

# name -> (diffusers class name, config overrides)
SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "Euler": ("EulerDiscreteScheduler", {}),
    "Euler a": ("EulerAncestralDiscreteScheduler", {}),
    "DPM++ 2M": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++"}),
    "DPM++ 2M Karras": ("DPMSolverMultistepScheduler",
                        {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True}),
    "DDIM": ("DDIMScheduler", {}),
    "UniPC": ("UniPCMultistepScheduler", {}),
    "LCM": ("LCMScheduler", {}),
}


def default_scheduler_for(turbo: bool, native_class: str = "") -> str:
    """LCM for LCM-distilled models, Euler a for Turbo (ADD) models, else Euler a."""
    if native_class == "LCMScheduler":
        return "LCM"
    return "Euler a"


def make_scheduler(name: str, base_config: Any, *, turbo: bool = False,
                   flow: bool = False, native_class: str = "") -> Any:
    """A new scheduler of kind ``name`` built from the model's own scheduler config.

    Flow-matching models (SD 3.5, FLUX) sample with their own flow-matching Euler scheduler,
    which is what "Euler" means for them; the DDPM-family samplers do not apply.
    """
    import diffusers

    if flow:
        from studio.core.generation.errors import GenerationError

        if name != "Euler":
            raise GenerationError(f"The sampler {name!r} does not apply to flow-matching models "
                                  "(SD 3.5, FLUX); use 'Euler'.")
        return getattr(diffusers, native_class or "FlowMatchEulerDiscreteScheduler").from_config(
            base_config)

    cls_name, overrides = SCHEDULERS[name]
    extra = dict(overrides)
    if turbo:
        # Distilled models are trained on the last timesteps: sample them ("trailing").
        extra["timestep_spacing"] = "trailing"
    return getattr(diffusers, cls_name).from_config(base_config, **extra)


UNET_PIPELINES = ("StableDiffusionPipeline", "StableDiffusionXLPipeline")


def _own_defaults(info: Any) -> bool:
    # Distilled and newer families have fixed recipes; SD 1.5 / 2.x / SDXL follow the user's
    # Settings > Generation defaults.
    return info.turbo or info.pipeline not in UNET_PIPELINES


def default_steps(info: Any, settings: Any) -> int:
    return info.default_steps if _own_defaults(info) else settings.default_steps


def default_guidance(info: Any, settings: Any) -> float:
    return info.default_guidance if _own_defaults(info) else settings.default_guidance


def default_scheduler(info: Any, settings: Any) -> str:
    return info.default_scheduler if _own_defaults(info) else settings.default_scheduler
