"""The fast path: per-family precision, channels_last, fused QKV, the best SDPA backend,
``torch.compile`` of the denoiser and VAE decoder (CUDA graphs when shapes are static), optional
FP8 (torchao), and opt-in "draft speed" caches that trade quality.

Worker-thread only (it imports torch). ``plan_fast_path`` is pure (settings + device -> plan);
``FastPath`` applies a plan once per loaded model and wraps each pipeline call so the first call
of a new shape (the one that compiles) is announced and its kernels are saved to the on-disk
cache afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from studio.core.generation.compile_cache import CompileCache
from studio.core.generation.devices import DeviceInfo
from studio.core.settings import FastPathSettings

log = logging.getLogger(__name__)

PREPARING = "Preparing the fast path… (first time only)"
PREPARING_CACHED = "Preparing the fast path from its cache…"

# The precision each family's weights and VAE are happiest in on a GPU. SD 1.x/2.x ship fp16;
# the SDXL VAE overflows in fp16 (diffusers then decodes in fp32), bf16 does not; the
# transformer families (SD3, FLUX, DiT) are trained in bf16.
FP16_FAMILIES = frozenset({"sd15", "sd2", "sd-turbo"})
# What the "blocks" scope compiles in a UNet (UNets have no ``_repeated_blocks``): the
# attention blocks, where most of its time goes; regional compiling is several times quicker.
UNET_BLOCKS = frozenset({"BasicTransformerBlock"})
DRAFT_CACHES = ("off", "first-block", "mag", "taylorseer")
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


@dataclass(frozen=True)
class FastPathPlan:
    dtype: str | None = None  # None: keep the dtype the model was loaded in
    channels_last: bool = False
    fuse_qkv: bool = False
    sdpa_backend: str | None = None  # None: PyTorch's own choice
    compile: bool = False
    compile_mode: str = "default"
    compile_scope: str = "full"
    compile_vae: bool = False
    compile_cache: bool = False
    fp8: bool = False
    draft_cache: str = "off"
    draft_cache_threshold: float = 0.2

    @property
    def active(self) -> bool:
        return self != FastPathPlan()

    @property
    def trades_quality(self) -> bool:
        return self.draft_cache != "off"

    def key(self) -> str:
        """What the compiled kernels depend on (part of the on-disk cache key)."""
        return (f"{self.dtype}-{int(self.channels_last)}{int(self.fuse_qkv)}-{self.sdpa_backend}"
                f"-{self.compile_mode}-{self.compile_scope}-{int(self.compile_vae)}"
                f"-{int(self.fp8)}-{self.draft_cache}")


def family_dtype(family: str) -> str:
    return "float16" if family in FP16_FAMILIES else "bfloat16"


def _fp8_capable(device: DeviceInfo) -> bool:
    if device.kind != "cuda":
        return False
    import importlib.util

    import torch

    # Float8 tensor cores: Ada (8.9) and Hopper (9.0) onwards.
    return torch.cuda.get_device_capability() >= (8, 9) and \
        importlib.util.find_spec("torchao") is not None


def plan_fast_path(s: FastPathSettings, device: DeviceInfo, family: str) -> FastPathPlan:
    """Which pieces to use on ``device`` for a model of ``family``; "auto" means CUDA only."""
    cuda = device.kind == "cuda"
    if not (s.enabled == "on" or (s.enabled == "auto" and cuda)):
        return FastPathPlan()
    compile_ = s.compile == "on" or (s.compile == "auto" and cuda)
    mode = s.compile_mode if s.compile_mode in COMPILE_MODES else "default"
    if s.compile_mode == "auto":
        # CUDA graphs remove the per-kernel launch cost that dominates at batch 1; they need
        # the whole denoiser in one graph with static shapes (each size compiles once).
        mode = "reduce-overhead" if cuda and s.compile_scope == "full" else "default"
    dtype = None
    if cuda:
        dtype = s.dtype if s.dtype in ("float16", "bfloat16") else family_dtype(family)
    fp8 = s.fp8 == "on" or (s.fp8 == "auto" and _fp8_capable(device))
    return FastPathPlan(
        dtype=dtype, channels_last=s.channels_last, fuse_qkv=s.fuse_qkv,
        sdpa_backend=(s.sdpa_backend if cuda else None), compile=compile_, compile_mode=mode,
        compile_scope=s.compile_scope if s.compile_scope in ("full", "blocks") else "full",
        compile_vae=compile_ and s.compile_vae, compile_cache=compile_ and s.compile_cache,
        fp8=fp8 and cuda, draft_cache=s.draft_cache if s.draft_cache in DRAFT_CACHES else "off",
        draft_cache_threshold=s.draft_cache_threshold)


@dataclass
class FastPathReport:
    """What was applied (for logs, the bench JSON and the status line)."""

    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "piece: why"
    compile_s: dict[str, float] = field(default_factory=dict)  # shape key -> first-call seconds
    cache_loaded: bool = False


def denoiser_of(pipe: Any) -> tuple[str, Any]:
    for name in ("unet", "transformer"):
        module = getattr(pipe, name, None)
        if module is not None:
            return name, module
    raise ValueError(f"{type(pipe).__name__} has neither a unet nor a transformer")


def _sdpa_context(backend: str | None) -> contextlib.AbstractContextManager:
    if backend is None:
        return contextlib.nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    order = {"flash": [SDPBackend.FLASH_ATTENTION], "efficient": [SDPBackend.EFFICIENT_ATTENTION],
             "math": [SDPBackend.MATH]}.get(backend)
    if order is None:  # auto: flash where it can run (fp16/bf16, head dim <= 256), then the rest
        order = [SDPBackend.FLASH_ATTENTION, SDPBackend.CUDNN_ATTENTION,
                 SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]
        return sdpa_kernel(order, set_priority=True)
    return sdpa_kernel(order)


def _apply_fp8(denoiser: Any) -> None:
    import torch
    from torchao.quantization import Float8DynamicActivationFloat8WeightConfig, PerRow, quantize_

    # Small projections lose more to the quantise/scale overhead than FP8 matmuls win.
    def big_linear(module: Any, _fqn: str) -> bool:
        return isinstance(module, torch.nn.Linear) and module.in_features >= 1024 \
            and module.out_features >= 1024

    quantize_(denoiser, Float8DynamicActivationFloat8WeightConfig(granularity=PerRow()),
              filter_fn=big_linear)


def _draft_cache_config(kind: str, threshold: float) -> Any:
    from diffusers.hooks import FirstBlockCacheConfig, MagCacheConfig, TaylorSeerCacheConfig

    if kind == "first-block":
        return FirstBlockCacheConfig(threshold=threshold)
    if kind == "mag":
        return MagCacheConfig(threshold=threshold)
    return TaylorSeerCacheConfig()


def apply_plan(pipe: Any, plan: FastPathPlan, report: FastPathReport) -> None:
    """Apply every piece of ``plan`` to ``pipe`` in place; a piece that cannot run on this
    model is skipped and recorded, never fatal (the eager path stays correct)."""
    import torch

    name, denoiser = denoiser_of(pipe)
    vae = getattr(pipe, "vae", None)
    if plan.dtype:
        dtype = getattr(torch, plan.dtype)
        if dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
            report.skipped.append("bfloat16: not supported by this GPU")
        elif denoiser.dtype != dtype:
            pipe.to(dtype=dtype)
            report.applied.append(plan.dtype)
    if plan.channels_last:
        for module in (denoiser, vae):
            if module is not None:
                module.to(memory_format=torch.channels_last)
        report.applied.append("channels_last")
    if plan.fuse_qkv:
        try:
            for module in (denoiser, vae):
                if module is not None and hasattr(module, "fuse_qkv_projections"):
                    module.fuse_qkv_projections()
            report.applied.append("fused_qkv")
        except ValueError as exc:  # e.g. added-KV attention (IP-Adapter style)
            report.skipped.append(f"fused_qkv: {exc}")
    if plan.fp8:
        try:
            _apply_fp8(denoiser)
            report.applied.append("fp8")
        except ImportError:
            report.skipped.append("fp8: torchao is not installed")
    if plan.draft_cache != "off":
        if hasattr(denoiser, "enable_cache") and name == "transformer":
            denoiser.enable_cache(_draft_cache_config(plan.draft_cache,
                                                      plan.draft_cache_threshold))
            report.applied.append(f"draft:{plan.draft_cache}")
        else:
            report.skipped.append(f"draft:{plan.draft_cache}: works on transformer models only")
    if plan.sdpa_backend:
        report.applied.append(f"sdpa:{plan.sdpa_backend}")
    if plan.compile:
        _compile(denoiser, vae, plan)
        report.applied.append(f"compile:{plan.compile_scope}:{plan.compile_mode}"
                              + ("+vae" if plan.compile_vae and vae is not None else ""))


def _compile(denoiser: Any, vae: Any, plan: FastPathPlan) -> None:
    # Static shapes: one graph per image size, which is what CUDA graphs need. Graph breaks
    # are tolerated (fullgraph=False): a model with one still gets the speed of its pieces.
    opts: dict[str, Any] = {"mode": plan.compile_mode, "dynamic": False}
    if plan.compile_scope == "blocks":
        blocks = getattr(denoiser, "_repeated_blocks", None) or UNET_BLOCKS
        for module in denoiser.modules():
            if type(module).__name__ in blocks:
                module.compile(**opts)
    else:
        denoiser.compile(**opts)
    if plan.compile_vae and vae is not None and hasattr(vae, "decoder"):
        # The decoder runs once per image: CUDA graphs would pin its large activations.
        vae.decoder.compile(mode="default", dynamic=False)


class FastPath:
    """Applies the plan to the loaded model once, and wraps each pipeline call."""

    def __init__(self, settings: FastPathSettings, cache_dir: Path | None) -> None:
        self.settings = settings
        self.cache = CompileCache(cache_dir) if cache_dir is not None else None
        self._model: Any = None  # the LoadedModel the plan was applied to
        self._planned = FastPathPlan()  # what the settings asked for when it was applied
        self._cache_key = ""
        self._shapes: set[tuple] = set()
        self.plan = FastPathPlan()
        self.report = FastPathReport()

    def prepare(self, model: Any, device: DeviceInfo, family: str) -> FastPathPlan:
        """Apply the plan to ``model`` (once per loaded model; a new model starts over)."""
        if model is self._model:
            return self.plan
        self._model, self._shapes = model, set()
        self.plan = self._planned = plan_fast_path(self.settings, device, family)
        self.report = FastPathReport()
        if not self.plan.active:
            return self.plan
        if self.plan.fp8 and not _fp8_capable(device):
            self.plan = replace(self.plan, fp8=False)
            self.report.skipped.append("fp8: needs an Ada or Hopper GPU and torchao")
        if self.plan.compile_cache and self.cache is not None:
            self._cache_key = self.cache.key(model.entry.sha256, device, self.plan.key())
            self.report.cache_loaded = self.cache.load(self._cache_key)
        apply_plan(model.pipe, self.plan, self.report)
        log.info("fast path on %s: %s (skipped: %s)", model.entry.name,
                 ", ".join(self.report.applied) or "nothing", "; ".join(self.report.skipped))
        return self.plan

    def needs_reload(self, model: Any, device: DeviceInfo, family: str) -> bool:
        """The settings changed since the plan went onto this loaded model: a cast or compiled
        model cannot be turned back, so it must be loaded again."""
        return model is self._model and plan_fast_path(self.settings, device, family) \
            != self._planned

    @contextlib.contextmanager
    def call(self, shape: tuple, status: Callable[[str], None]) -> Iterator[None]:
        """Around one pipeline call of ``shape`` (what changes tensor shapes: width, height,
        images per call, guidance on/off); ``status`` hears when a compile is coming."""
        first = self.plan.compile and shape not in self._shapes
        if first:
            status(PREPARING_CACHED if self.report.cache_loaded else PREPARING)
        t0 = time.perf_counter()
        with _sdpa_context(self.plan.sdpa_backend):
            yield
        if first:
            self._shapes.add(shape)
            self.report.compile_s["x".join(map(str, shape))] = time.perf_counter() - t0
            if self.plan.compile_cache and self.cache is not None:
                self.cache.save(self._cache_key)

    def release(self) -> None:
        self._model, self._shapes = None, set()
