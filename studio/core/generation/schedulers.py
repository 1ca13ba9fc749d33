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


def make_scheduler(name: str, base_config: Any, *, turbo: bool = False) -> Any:
    """A new scheduler of kind ``name`` built from the model's own scheduler config."""
    import diffusers

    cls_name, overrides = SCHEDULERS[name]
    extra = dict(overrides)
    if turbo:
        # Distilled models are trained on the last timesteps: sample them ("trailing").
        extra["timestep_spacing"] = "trailing"
    return getattr(diffusers, cls_name).from_config(base_config, **extra)
