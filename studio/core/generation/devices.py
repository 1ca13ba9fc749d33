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
    cpu_offload: bool


def _choice(setting: str, auto: bool) -> bool:
    return {"on": True, "off": False}.get(setting, auto)


def plan_memory(info: DeviceInfo, xl: bool, pixels: int, *, attention_slicing: str = "auto",
                vae_tiling: str = "auto", cpu_offload: str = "auto") -> MemoryPlan:
    """Pick memory savers from free VRAM; settings "on"/"off" override "auto"."""
    free = info.free_bytes
    if info.kind != "cuda" or free is None:
        auto = MemoryPlan(False, False, False)
    else:
        need = (7 if xl else 3.5) * GIB  # weights + activations at the family's native size
        auto = MemoryPlan(attention_slicing=free < need * 0.8,
                          vae_tiling=free < need or pixels > 1536 * 1536,
                          cpu_offload=free < need * 0.6)
    return MemoryPlan(_choice(attention_slicing, auto.attention_slicing),
                      _choice(vae_tiling, auto.vae_tiling),
                      _choice(cpu_offload, auto.cpu_offload))
