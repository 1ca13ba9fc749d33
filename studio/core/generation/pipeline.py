"""Loading a registered model into a diffusers pipeline on a device. Worker-thread only."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.generation.devices import DeviceInfo, MemoryPlan, torch_dtype
from studio.core.generation.errors import ModelError
from studio.core.generation.families import FAMILIES
from studio.core.generation.lora import AdapterState
from studio.core.generation.registry import ModelEntry, ModelKind
from studio.core.generation.single_file import (
    NEEDS_TEXT_ENCODERS,
    assemble_config_dir,
    borrowed_components,
    text_encoder_group,
)

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    entry: ModelEntry
    pipe: Any  # txt2img pipeline
    native_scheduler_config: Any
    native_scheduler_class: str
    device: DeviceInfo
    plan: MemoryPlan | None = None
    _img2img: Any = None
    _inpaint: Any = None
    adapters: AdapterState = field(default_factory=AdapterState)

    def img2img(self) -> Any:
        """An img2img pipeline sharing this one's components (no extra memory)."""
        if self._img2img is None:
            from diffusers import AutoPipelineForImage2Image

            if not FAMILIES[self.entry.family].img2img:
                raise ModelError(f"{FAMILIES[self.entry.family].label} models cannot start "
                                 "from an image in the studio (no image-to-image pipeline).")
            self._img2img = AutoPipelineForImage2Image.from_pipe(self.pipe)
        return self._img2img

    def inpaint(self) -> Any:
        """An inpainting pipeline sharing this one's components (no second weights copy)."""
        if self._inpaint is None:
            from diffusers import AutoPipelineForInpainting

            self._inpaint = AutoPipelineForInpainting.from_pipe(self.pipe)
        return self._inpaint


def _pipeline_class(entry: ModelEntry) -> Any:
    import diffusers

    return getattr(diffusers, FAMILIES[entry.family].pipeline)


def _dtype_kwarg() -> str:
    # diffusers renamed ``torch_dtype`` to ``dtype`` (the old name warns); support both.
    from diffusers.utils import deprecation_utils

    return "dtype" if hasattr(deprecation_utils, "_resolve_dtype") else "torch_dtype"


def load_model(entry: ModelEntry, device: DeviceInfo,
               registered: Sequence[ModelEntry] = ()) -> LoadedModel:
    """Load ``entry`` onto ``device``. Every failure becomes a ModelError the user can act on.

    ``registered`` (the registry's models) is where an SD 3.5 / FLUX.1 single file with no
    config folder of its own finds a diffusers folder of its family to take text encoders from.
    """
    cls = _pipeline_class(entry)
    dtype = torch_dtype(device)
    common: dict[str, Any] = {_dtype_kwarg(): dtype, "local_files_only": True}
    if FAMILIES[entry.family].pipeline == "StableDiffusionPipeline":
        common.update(safety_checker=None, requires_safety_checker=False)
    path = Path(entry.path)
    if not path.exists():
        raise ModelError(f"The model {entry.name} is no longer at {path}. Add it again from "
                         "its new place, or remove it.")
    try:
        if entry.kind is ModelKind.FOLDER:
            pipe = cls.from_pretrained(str(path), **common)
        elif entry.config_dir and entry.family not in NEEDS_TEXT_ENCODERS:
            pipe = cls.from_single_file(str(path), config=entry.config_dir, **common)
        else:
            pipe = _single_file_with_shipped_configs(cls, entry, path, common, dtype, registered)
    except ModelError:
        raise
    except Exception as exc:  # diffusers raises many types (OSError, ValueError, KeyError...)
        log.exception("loading %s failed", path)
        raise ModelError(f"The model {entry.name} could not be loaded: {exc}. The files may be "
                         "incomplete or not a model of the family "
                         f"{FAMILIES[entry.family].label}.") from exc
    pipe.set_progress_bar_config(disable=True)
    return LoadedModel(entry, pipe, pipe.scheduler.config, type(pipe.scheduler).__name__, device)


def torch_device(device: DeviceInfo) -> Any:
    import torch

    return torch.device(device.kind)


def _text_encoder_folder(entry: ModelEntry, registered: Sequence[ModelEntry]) -> Path | None:
    if entry.config_dir and Path(entry.config_dir, "model_index.json").is_file():
        return Path(entry.config_dir)  # chosen, or remembered when the file was added
    group = text_encoder_group(entry.family)
    for other in registered:
        if other.kind is ModelKind.FOLDER and other.family in group and Path(other.path).is_dir():
            return Path(other.path)
    return None


def _single_file_with_shipped_configs(cls: Any, entry: ModelEntry, path: Path,
                                      common: dict[str, Any], dtype: Any,
                                      registered: Sequence[ModelEntry]) -> Any:
    """A single file with the family's configs and tokenizer files the studio ships
    (resources/model_configs), fitted to the checkpoint's tensor shapes: no hub, no cache."""
    folder = _text_encoder_folder(entry, registered) \
        if entry.family in NEEDS_TEXT_ENCODERS else None
    with tempfile.TemporaryDirectory(prefix="studio-model-config-") as tmp:
        own_vae = assemble_config_dir(path, entry.family, Path(tmp), folder)
        extra = borrowed_components(folder, entry.family, own_vae, dtype, _dtype_kwarg()) \
            if folder is not None else {}
        return cls.from_single_file(str(path), config=tmp, **common, **extra)


def apply_memory_plan(model: LoadedModel, plan: MemoryPlan) -> None:
    """Move to the device with the memory savers the plan asks for (once per plan)."""
    if model.plan == plan:
        return
    pipe = model.pipe
    cuda = model.device.kind == "cuda"
    denoiser = getattr(pipe, "transformer", None) or getattr(pipe, "unet", None)
    if plan.fp8_storage and cuda and denoiser is not None and model.plan is None:
        import torch

        # Weights kept as FP8 and up-cast layer by layer: about half the denoiser's VRAM.
        denoiser.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn,
                                          compute_dtype=torch_dtype(model.device))
    if plan.group_offload and cuda:
        # Blocks are copied to the GPU just before they run, overlapped on a CUDA stream.
        pipe.enable_group_offload(onload_device=torch_device(model.device),
                                  offload_type="block_level", num_blocks_per_group=1,
                                  use_stream=True)
    elif plan.cpu_offload and cuda:
        pipe.enable_model_cpu_offload()
    else:
        pipe.to(model.device.kind)
    if plan.attention_slicing:
        pipe.enable_attention_slicing()
    else:
        pipe.disable_attention_slicing()
    if plan.vae_tiling:
        pipe.vae.enable_tiling()
    else:
        pipe.vae.disable_tiling()
    model.plan = plan
    model._img2img = None
    model._inpaint = None
