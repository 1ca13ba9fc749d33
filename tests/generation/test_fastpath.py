"""The fast path on CPU: a really compiled (Inductor + gcc) tiny pipeline against eager, the
on-disk compile cache, the plan per device and family, and the draft-speed cache switch."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from studio.core.generation.devices import DeviceInfo
from studio.core.generation.engine import GenerationEngine, JobState, JobStatus
from studio.core.generation.fastpath import (
    PREPARING,
    PREPARING_CACHED,
    FastPathPlan,
    FastPathReport,
    apply_plan,
    plan_fast_path,
)
from studio.core.settings import FastPathSettings, GenerationSettings, SettingsStore
from tests.generation.conftest import make_request

CPU = DeviceInfo("cpu", "CPU", "float32", None)
GPU = DeviceInfo("cuda", "NVIDIA H200 (139 GiB free)", "float16", 139 * 2**30)  # plan input only


def _pixels(library, asset) -> np.ndarray:
    with Image.open(library.path_of(asset)) as img:
        return np.asarray(img.convert("RGB")).astype(np.int16)


def test_plan_is_on_by_default_on_cuda_only_and_each_piece_switches() -> None:
    assert not plan_fast_path(FastPathSettings(), CPU, "sd15").active
    sd = plan_fast_path(FastPathSettings(), GPU, "sd15")
    xl = plan_fast_path(FastPathSettings(), GPU, "sdxl")
    flux = plan_fast_path(FastPathSettings(), GPU, "flux")
    assert (sd.dtype, xl.dtype, flux.dtype) == ("float16", "bfloat16", "bfloat16")
    assert sd.compile and sd.compile_mode == "reduce-overhead" and sd.compile_vae
    assert sd.channels_last and sd.fuse_qkv and sd.sdpa_backend == "auto" and sd.compile_cache
    assert not sd.fp8 and not sd.trades_quality  # the default path keeps quality
    off = plan_fast_path(FastPathSettings(compile="off", channels_last=False, fuse_qkv=False,
                                          dtype="bfloat16"), GPU, "sd15")
    assert not off.compile and not off.channels_last and not off.fuse_qkv
    assert off.dtype == "bfloat16" and not off.compile_cache
    assert not plan_fast_path(FastPathSettings(enabled="off"), GPU, "sd15").active
    # Regional compile keeps no CUDA graphs (they need the whole denoiser in one graph).
    blocks = plan_fast_path(FastPathSettings(compile_scope="blocks"), GPU, "sd15")
    assert blocks.compile_mode == "default"
    cpu_on = plan_fast_path(FastPathSettings(enabled="on", compile="on"), CPU, "sd15")
    assert cpu_on.compile and cpu_on.dtype is None and cpu_on.sdpa_backend is None
    draft = plan_fast_path(FastPathSettings(draft_cache="first-block"), GPU, "flux")
    assert draft.trades_quality and draft.key() != flux.key()


def test_fast_path_settings_load_from_file_and_bad_values_fall_back(tmp_path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 1, "generation": {"fast_path": {
        "compile": "off", "channels_last": "yes", "draft_cache": "taylorseer"}}}))
    loaded = SettingsStore(path).load()
    fp = loaded.settings.generation.fast_path
    assert fp.compile == "off" and fp.draft_cache == "taylorseer"
    assert fp.channels_last is True  # ill-typed: the default, and the problem is listed
    assert any("channels_last" in n for n in loaded.notices)


def test_compiled_tiny_pipeline_matches_eager_and_its_kernels_are_cached(
        library, tiny_model, tmp_path) -> None:
    cache = tmp_path / "compile-cache"
    eager = GenerationEngine(library)
    try:
        entry = eager.registry.add(tiny_model)
        ref = eager.wait(eager.enqueue(make_request(entry, seed=7)), 120)
        assert ref.state is JobState.DONE, ref.error
    finally:
        eager.shutdown()
    # Regional compile of the attention blocks, no VAE compile: a real Inductor/gcc build
    # that stays quick enough for CI (the full denoiser is what the GPU bench compiles).
    fast_settings = FastPathSettings(enabled="on", compile="on", compile_scope="blocks",
                                     compile_vae=False)
    statuses: list[str] = []

    def run_fast() -> tuple:
        engine = GenerationEngine(library, GenerationSettings(fast_path=fast_settings),
                                  cache_dir=cache)
        engine.add_listener(lambda ev: isinstance(ev, JobStatus) and statuses.append(ev.text))
        try:
            jobs = [engine.wait(engine.enqueue(make_request(entry, seed=s)), 600) for s in (7, 8)]
        finally:
            engine.shutdown()
        return engine.fast.report, jobs

    report, (job, other) = run_fast()
    assert job.state is JobState.DONE and other.state is JobState.DONE, (job.error, other.error)
    assert "compile:blocks:default" in report.applied and "channels_last" in report.applied
    assert statuses == [PREPARING]  # once: the second job of the same shape reuses the kernels
    diff = np.abs(_pixels(library, job.assets[0]) - _pixels(library, ref.assets[0]))
    assert diff.max() <= 2 and diff.mean() < 0.05, (diff.max(), diff.mean())
    assert not np.array_equal(_pixels(library, job.assets[0]), _pixels(library, other.assets[0]))
    files = list(cache.glob("*.bin"))
    assert len(files) == 1 and files[0].stat().st_size > 0
    # A new engine (as after a restart) hands the saved kernels to PyTorch before compiling.
    statuses.clear()
    report2, (again, _) = run_fast()
    assert report2.cache_loaded and statuses == [PREPARING_CACHED]
    assert np.array_equal(_pixels(library, again.assets[0]), _pixels(library, job.assets[0]))


def test_a_corrupt_compile_cache_is_dropped_not_fatal(tmp_path) -> None:
    from studio.core.generation.compile_cache import CompileCache

    cache = CompileCache(tmp_path)
    key = cache.key("ab" * 32, CPU, FastPathPlan(compile=True).key())
    assert key == cache.key("ab" * 32, CPU, FastPathPlan(compile=True).key())
    assert key != cache.key("cd" * 32, CPU, FastPathPlan(compile=True).key())
    assert not cache.load(key)  # nothing cached yet
    cache.path(key).write_bytes(b"not a torch cache")
    assert not cache.load(key) and not cache.path(key).exists()


def test_draft_cache_goes_on_transformers_and_is_refused_for_unets(tiny_model) -> None:
    import torch
    from diffusers import FluxTransformer2DModel, StableDiffusionPipeline

    plan = FastPathPlan(draft_cache="first-block", draft_cache_threshold=0.1)
    unet_pipe = StableDiffusionPipeline.from_pretrained(str(tiny_model))
    report = FastPathReport()
    apply_plan(unet_pipe, plan, report)
    assert report.applied == [] and "transformer models only" in report.skipped[0]

    class TinyFluxPipe:  # just the parts apply_plan looks at
        vae = None

        def __init__(self) -> None:
            torch.manual_seed(0)
            self.transformer = FluxTransformer2DModel(
                patch_size=1, in_channels=4, num_layers=1, num_single_layers=1,
                attention_head_dim=16, num_attention_heads=2, joint_attention_dim=32,
                pooled_projection_dim=32, axes_dims_rope=(4, 4, 8))

    pipe = TinyFluxPipe()
    report = FastPathReport()
    apply_plan(pipe, plan, report)
    assert report.applied == ["draft:first-block"] and pipe.transformer.is_cache_enabled


def test_a_batch_is_one_call_and_each_item_matches_its_single_run(library,
                                                                  tiny_model) -> None:
    from studio.core.generation.engine import JobProgress

    engine = GenerationEngine(library, GenerationSettings(batch_per_call=4))
    try:
        entry = engine.registry.add(tiny_model)
        progress: list = []
        engine.add_listener(lambda ev: isinstance(ev, JobProgress) and progress.append(ev))
        batch = engine.wait(engine.enqueue(make_request(entry, batch_size=3, seed=40)), 120)
        assert batch.state is JobState.DONE and len(batch.assets) == 3
        # One call for the three items: every step advances all three together.
        assert {p.item for p in progress} == {0}
        assert [p.done for p in progress] == [3, 6, 9] and progress[-1].total == 9
        alone = engine.wait(engine.enqueue(make_request(entry, seed=42)), 120)
        imgs = [_pixels(library, a) for a in batch.assets]
        single = _pixels(library, alone.assets[0])
        # Batched kernels round differently: +-1 level on a few pixels at most.
        diff = np.abs(imgs[2] - single)
        assert diff.max() <= 1 and (diff > 0).mean() < 0.01
        assert np.abs(imgs[0] - single).mean() > 5  # a different seed is a different image
    finally:
        engine.shutdown()


def test_changing_the_fast_path_settings_reloads_the_model(library, tiny_model) -> None:
    settings = GenerationSettings()  # CPU: the fast path is off by default
    engine = GenerationEngine(library, settings)
    try:
        entry = engine.registry.add(tiny_model)
        first = engine.wait(engine.enqueue(make_request(entry)), 120)
        assert first.state is JobState.DONE and not engine.fast.plan.active
        loaded = engine._model
        settings.fast_path.enabled, settings.fast_path.fuse_qkv = "on", False  # as the GUI does
        second = engine.wait(engine.enqueue(make_request(entry)), 120)
        assert second.state is JobState.DONE, second.error
        assert engine._model is not loaded  # loaded again, then the plan applied
        assert engine.fast.report.applied == ["channels_last"]
        import torch

        unet = engine._model.pipe.unet
        assert unet.conv_in.weight.is_contiguous(memory_format=torch.channels_last)
        # channels_last changes the memory layout, not the picture (rounding at most).
        diff = np.abs(_pixels(library, first.assets[0]) - _pixels(library, second.assets[0]))
        assert diff.max() <= 1
    finally:
        engine.shutdown()
