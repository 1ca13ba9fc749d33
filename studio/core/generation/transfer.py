"""Device-to-host copies that do not stall the GPU worker.

``start_copy`` queues a non-blocking copy into pinned memory and records a CUDA event after it;
``HostCopy.ready()`` asks the event without waiting and ``wait()`` waits for that copy only (not
for the whole device), so another thread can finish the work while the worker keeps the GPU
busy. On CPU the copy is immediate and both are trivially true.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class HostCopy:
    tensor: Any  # on the host (pinned when it came from CUDA)
    event: Any = None  # torch.cuda.Event recorded after the copy, None on CPU

    def ready(self) -> bool:
        return self.event is None or bool(self.event.query())

    def wait(self) -> Any:
        if self.event is not None:
            self.event.synchronize()
        return self.tensor


def start_copy(tensor: Any) -> HostCopy:
    import torch

    if tensor.device.type != "cuda":
        return HostCopy(tensor.detach().to("cpu"))
    host = torch.empty(tensor.shape, dtype=tensor.dtype, pin_memory=True)
    host.copy_(tensor.detach(), non_blocking=True)
    event = torch.cuda.Event()
    event.record()
    return HostCopy(host, event)


def images_to_uint8(images: Any) -> Any:
    """(B, 3, H, W) floats in [0, 1] -> (B, H, W, 3) uint8 on the same device, rounding exactly
    as diffusers' PIL output does (float32, x255, round half to even)."""
    import torch

    return (images.float() * 255).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)


def uint8_to_pil(array: Any) -> list[Any]:
    from PIL import Image

    return [Image.fromarray(a, "RGB") for a in array.contiguous().numpy()]
