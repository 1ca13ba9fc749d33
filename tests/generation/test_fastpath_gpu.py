"""On CUDA: the studio fast path (default settings: per-family dtype, channels_last, fused QKV,
flash SDPA, compiled UNet with CUDA graphs and compiled VAE decoder) makes the image plain eager
diffusers makes, within bf16 tolerance, for full-size SD 1.5 and SDXL (random weights)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.generation.conftest import make_request


@pytest.mark.gpu
@pytest.mark.parametrize("arch", ["sd15", "sdxl"])
def test_fast_path_image_equals_eager_within_bf16_tolerance(arch, library, tmp_path) -> None:
    import torch
    from diffusers import DiffusionPipeline

    from bench.archs import CASES, build
    from studio.core.generation.engine import GenerationEngine, JobState
    from studio.core.generation.fastpath import family_dtype

    size, _steps, guidance, _dtype, family = CASES[arch]
    folder = tmp_path / arch
    build(arch, tmp_path, "cuda").to(dtype=torch.float16).save_pretrained(str(folder))
    torch.cuda.empty_cache()
    # Eager in the dtype the fast path picks for the family, so only the fast path differs.
    dtype = getattr(torch, family_dtype(family))
    pipe = DiffusionPipeline.from_pretrained(str(folder), torch_dtype=dtype).to("cuda")
    pipe.set_progress_bar_config(disable=True)
    eager = pipe("a lighthouse at dusk", num_inference_steps=8, guidance_scale=guidance,
                 width=size, height=size, generator=torch.Generator("cuda").manual_seed(3),
                 output_type="np").images[0]
    eager = (eager * 255).round().astype(np.float64)
    del pipe
    torch.cuda.empty_cache()

    engine = GenerationEngine(library, cache_dir=tmp_path / "cache")  # defaults: fast path on
    try:
        entry = engine.registry.add(folder)
        job = engine.wait(engine.enqueue(make_request(
            entry, steps=8, width=size, height=size, guidance=guidance, seed=3,
            prompt="a lighthouse at dusk")), 1200)
        assert job.state is JobState.DONE, job.error
        assert any(p.startswith("compile:full") for p in engine.fast.report.applied)
    finally:
        engine.shutdown()
    with Image.open(library.path_of(job.assets[0])) as img:
        fast = np.asarray(img.convert("RGB")).astype(np.float64)
    rel = np.linalg.norm(fast - eager) / np.linalg.norm(eager)
    assert rel < 0.05 and np.abs(fast - eager).mean() < 6.0, (rel, np.abs(fast - eager).mean())
