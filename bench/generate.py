"""Generation speed: plain diffusers against the studio engine, in the same run.

Random-weight pipelines built from hard-coded SD 1.5 and SDXL configs (no hub): SD 1.5 at
512x512 and SDXL at 1024x1024, 30 steps, batch 1, fp16 with PyTorch SDPA attention on CUDA.
Prints JSON: iterations/s (denoising steps only), seconds per image (whole call; for the engine
also the PNG encode and library store), and peak GPU memory.

    python bench/generate.py            # needs CUDA
    python bench/generate.py --tiny     # CPU smoke run with the tiny demo config, same JSON
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CLIP_L = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
              num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu",
              projection_dim=768, vocab_size=49408)
CLIP_BIGG = dict(hidden_size=1280, intermediate_size=5120, num_hidden_layers=32,
                 num_attention_heads=20, max_position_embeddings=77, hidden_act="gelu",
                 projection_dim=1280, vocab_size=49408)
VAE = dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4,
           down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4)
SD15_UNET: dict = {}  # UNet2DConditionModel's defaults are the SD 1.5 UNet
SDXL_UNET = dict(
    sample_size=128, block_out_channels=(320, 640, 1280), layers_per_block=2,
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    transformer_layers_per_block=(1, 2, 10), attention_head_dim=(5, 10, 20),
    cross_attention_dim=2048, addition_embed_type="text_time", addition_time_embed_dim=256,
    projection_class_embeddings_input_dim=2816, use_linear_projection=True)
SCHEDULER = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                 beta_schedule="scaled_linear", steps_offset=1, timestep_spacing="leading")


def build_full(arch: str, folder: Path, dtype) -> None:
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTextModelWithProjection,
        CLIPTokenizer,
    )

    from studio.core.generation.demo import write_tokenizer

    torch.manual_seed(0)
    write_tokenizer(folder / "tok")
    tok = CLIPTokenizer.from_pretrained(str(folder / "tok"))
    sched = EulerDiscreteScheduler(**SCHEDULER)
    if arch == "sd15":
        pipe = StableDiffusionPipeline(
            unet=UNet2DConditionModel(**SD15_UNET), vae=AutoencoderKL(**VAE, sample_size=512),
            text_encoder=CLIPTextModel(CLIPTextConfig(**CLIP_L)), tokenizer=tok,
            scheduler=sched, safety_checker=None, feature_extractor=None,
            requires_safety_checker=False)
    else:
        pipe = StableDiffusionXLPipeline(
            unet=UNet2DConditionModel(**SDXL_UNET),
            vae=AutoencoderKL(**VAE, sample_size=1024, scaling_factor=0.13025),
            text_encoder=CLIPTextModel(CLIPTextConfig(**CLIP_L)),
            text_encoder_2=CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_BIGG)),
            tokenizer=tok, tokenizer_2=tok, scheduler=sched)
    pipe.to(dtype=dtype).save_pretrained(str(folder), safe_serialization=True)


def _step_rate(times: list[float]) -> float:
    # Steps per second between the first and last step callbacks (excludes encode/decode).
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


def bench_plain(folder: Path, arch: str, device: str, dtype, size: int, steps: int,
                runs: int) -> dict:
    import torch
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    cls = StableDiffusionXLPipeline if "xl" in arch else StableDiffusionPipeline
    pipe = cls.from_pretrained(str(folder), torch_dtype=dtype, local_files_only=True).to(device)
    pipe.set_progress_bar_config(disable=True)
    stamps: list[float] = []

    def cb(p, i, t, kw):
        stamps.append(time.perf_counter())
        return kw

    def once(n: int) -> float:
        stamps.clear()
        t0 = time.perf_counter()
        pipe("a photo of a lighthouse", num_inference_steps=n, width=size, height=size,
             generator=torch.Generator(device).manual_seed(0), callback_on_step_end=cb)
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    once(2)  # warm-up: kernels, allocator
    _reset_peak(device)
    secs, rates = [], []
    for _ in range(runs):
        secs.append(once(steps))
        rates.append(_step_rate(stamps))
    return _row(arch, size, steps, "diffusers", rates, secs, _peak(device))


def bench_engine(folder: Path, arch: str, device: str, size: int, steps: int, runs: int) -> dict:
    from studio.core.generation.engine import GenerationEngine, JobProgress
    from studio.core.generation.request import GenerationRequest
    from studio.core.library import Library
    from studio.core.settings import GenerationSettings

    home = Path(tempfile.mkdtemp(prefix="bench-studio-"))
    lib = Library(home / "library.sqlite3", home / "store")
    engine = GenerationEngine(lib, GenerationSettings(device=device))
    stamps: list[float] = []
    engine.add_listener(lambda ev: isinstance(ev, JobProgress)
                        and stamps.append(time.perf_counter()))
    entry = engine.registry.add(folder)

    def once(n: int, seed: int) -> float:
        stamps.clear()
        req = GenerationRequest(model_id=entry.id, model_sha256=entry.sha256,
                                prompt="a photo of a lighthouse", steps=n, width=size,
                                height=size, scheduler="Euler", guidance=7.0, seed=seed)
        t0 = time.perf_counter()
        job = engine.wait(engine.enqueue(req))
        if job.error:
            raise RuntimeError(job.error)
        return time.perf_counter() - t0

    once(2, 0)  # warm-up, includes loading the model
    _reset_peak(device)
    secs, rates = [], []
    for i in range(runs):
        secs.append(once(steps, i + 1))
        rates.append(_step_rate(stamps))
    peak = _peak(device)
    engine.shutdown()
    lib.close()
    _free(device)
    return _row(arch, size, steps, "studio-engine", rates, secs, peak)


def _row(arch, size, steps, runner, rates, secs, peak) -> dict:
    return {"arch": arch, "size": f"{size}x{size}", "steps": steps, "batch": 1, "runner": runner,
            "it_per_s": round(max(rates), 3), "s_per_image": round(min(secs), 4),
            "peak_gpu_mem_gib": peak}


def _reset_peak(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def _peak(device: str) -> float | None:
    import torch

    return round(torch.cuda.max_memory_allocated() / 1024**3, 3) if device == "cuda" else None


def _free(device: str) -> None:
    import gc

    import torch

    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="CPU smoke run, tiny model")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import diffusers
    import torch

    from studio.core.generation.demo import build_demo_pipeline

    results = []
    work = Path(tempfile.mkdtemp(prefix="bench-generate-"))
    if args.tiny:
        device, dtype = "cpu", torch.float32
        build_demo_pipeline(work / "tiny")
        cases = [("sd15-tiny", work / "tiny", 64)]
    else:
        if not torch.cuda.is_available():
            print(json.dumps({"error": "no CUDA GPU; use --tiny for the CPU smoke run"}))
            return 2
        device, dtype = "cuda", torch.float16
        cases = []
        for arch, size in (("sd15", 512), ("sdxl", 1024)):
            build_full(arch, work / arch, dtype)
            cases.append((arch, work / arch, size))
    for arch, folder, size in cases:
        results.append(bench_plain(folder, arch, device, dtype, size, args.steps, args.runs))
        _free(device)  # the plain pipeline is gone once bench_plain returns
        results.append(bench_engine(folder, arch, device, size, args.steps, args.runs))
    print(json.dumps({
        "mode": "tiny-cpu" if args.tiny else "full-gpu", "device": device,
        "device_name": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "dtype": str(dtype).removeprefix("torch."), "attention": "sdpa",
        "torch": torch.__version__, "diffusers": diffusers.__version__,
        "weights": "random", "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
