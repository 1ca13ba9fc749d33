"""Device, dtype and memory options. Runs in the worker thread (it imports torch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GIB = 1024**3


@dataclass(frozen=True)
class DeviceInfo:
    kind: str  # cuda | mps | cpu
    name: str  # human-readable, e.g. "NVIDIA H100 (79 GiB free)"
    dtype_name: str  # float16 | bfloat16 | float32
    free_bytes: int | None  # free accelerator memory, None when unknown/not applicable

    @property
    def label(self) -> str:
        return f"{self.name}, {self.dtype_name}"


def probe_device(preference: str = "auto") -> DeviceInfo:
    """CUDA, then MPS, then CPU (or the user's choice when it is available)."""
    import torch

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    kind = preference if preference in {"cuda", "mps", "cpu"} else "auto"
    if (kind == "cuda" and not cuda) or (kind == "mps" and not mps):
        kind = "auto"
    if kind == "auto":
        kind = "cuda" if cuda else "mps" if mps else "cpu"
    if kind == "cuda":
        free, _total = torch.cuda.mem_get_info()
        dtype = "bfloat16" if torch.cuda.is_bf16_supported() and _prefers_bf16() else "float16"
        name = f"{torch.cuda.get_device_name()} ({free / GIB:.0f} GiB free)"
        return DeviceInfo("cuda", name, dtype, int(free))
    if kind == "mps":
        return DeviceInfo("mps", "Apple GPU (MPS)", "float16", None)
    return DeviceInfo("cpu", "CPU", "float32", None)


def _prefers_bf16() -> bool:
    # fp16 is the format SD weights ship in and what the VAE is tuned for; keep it by default.
    return False


def torch_dtype(info: DeviceInfo) -> Any:
    import torch

    return getattr(torch, info.dtype_name)


@dataclass(frozen=True)
class MemoryPlan:
    attention_slicing: bool
    vae_tiling: bool
    cpu_offload: bool  # model CPU offload: one component on the GPU at a time
    fp8_storage: bool = False  # denoiser weights stored as FP8, computed in fp16/bf16
    group_offload: bool = False  # denoiser blocks streamed to the GPU as they run


def _choice(setting: str, auto: bool) -> bool:
    return {"on": True, "off": False}.get(setting, auto)


def plan_memory(info: DeviceInfo, xl: bool, pixels: int, *, attention_slicing: str = "auto",
                vae_tiling: str = "auto", cpu_offload: str = "auto",
                need_gib: float | None = None, denoiser_gib: float | None = None) -> MemoryPlan:
    """Pick memory savers from free VRAM; settings "on"/"off" override "auto".

    ``need_gib`` is the family's all-on-GPU need, ``denoiser_gib`` its largest component (the
    UNet or transformer) at fp16. The tiers: everything on the GPU; model CPU offload when the
    whole does not fit; FP8 weight storage when even the denoiser alone does not fit; block
    group offloading when its FP8 copy does not fit either.
    """
    free = info.free_bytes
    fp8 = group = False
    if info.kind != "cuda" or free is None:
        auto = MemoryPlan(False, False, False)
    else:
        need = (need_gib or (7 if xl else 3.5)) * GIB
        auto = MemoryPlan(attention_slicing=free < need * 0.8,
                          vae_tiling=free < need or pixels > 1536 * 1536,
                          cpu_offload=free < need * 0.6 if need_gib is None else free < need)
        if denoiser_gib is not None and auto.cpu_offload:
            den = denoiser_gib * GIB
            fp8 = free < den * 1.05  # weights + activations at the native size
            group = free < den * 0.6 + GIB
    return MemoryPlan(_choice(attention_slicing, auto.attention_slicing),
                      _choice(vae_tiling, auto.vae_tiling),
                      _choice(cpu_offload, auto.cpu_offload), fp8_storage=fp8,
                      group_offload=group and cpu_offload != "off")
