"""Generation speed: plain diffusers (eager) against the studio fast path, side by side.

Each side runs in its own process, one after the other (no two thread teams or CUDA contexts
fight), on the same weights, scheduler, steps, guidance and seeds:

- ``eager``: plain diffusers, as its docs show it (fp16/bf16, SDPA), nothing else;
- ``studio``: the studio's GenerationEngine with the fast path (FLUX: the same FastPath and
  call path, as the registry does not take FLUX yet), measured twice in fresh processes with
  empty Inductor caches: ``cold`` (compiles from nothing) and ``cached`` (the studio's on-disk
  compile cache from the cold run), the timed runs happening in the cached one.

Timing: after a warm-up, ``--repeats`` alternating runs at a low and a high step count, each
ended by a CUDA synchronisation (eager) or by the stored image (studio: its JobFinished comes
after the output stage has the pixels, i.e. after all GPU work). ``it_per_s`` is the
difference of the medians, (hi - lo) steps / (t_hi - t_lo): text encoding, VAE decode and PNG
store cancel out. ``s_per_image`` is the median whole call at the high step count (studio: also
PNG encode + library store, overlapped with nothing since runs are sequential). ``compile_s``
is the first call minus a steady call. ``equivalence``: relative L2 difference of the two
images of seed 0 (0 = identical), plus the mean and max absolute difference in 0-255 levels.

    python bench/generate.py --out DIR           # CUDA: SD 1.5 512², SDXL 1024², FLUX.1-schnell
    python bench/generate.py --tiny --out DIR    # CPU: the tiny demo model, compiled vs eager

See docs/benchmarks.md for running it on a GPU box without network access.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPT = "a photo of a lighthouse on a cliff at dusk, dramatic sky"


# -- child processes --------------------------------------------------------------------------

def _setup(spec: dict) -> None:
    import torch

    if spec.get("threads"):
        torch.set_num_threads(int(spec["threads"]))


def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def _peak_gib(device: str) -> float | None:
    import torch

    return round(torch.cuda.max_memory_allocated() / 1024**3, 3) if device == "cuda" else None


def _rates(lo: list[float], hi: list[float], n_lo: int, n_hi: int) -> dict:
    t_lo, t_hi = statistics.median(lo), statistics.median(hi)
    return {"it_per_s": round((n_hi - n_lo) / (t_hi - t_lo), 3) if t_hi > t_lo else None,
            "s_per_image": round(t_hi, 4), "runs_hi_s": [round(x, 4) for x in hi],
            "runs_lo_s": [round(x, 4) for x in lo]}


def _plain_pipeline(spec: dict):
    import torch

    dtype = getattr(torch, spec["dtype"])
    if spec["arch"] == "flux-schnell":
        from bench.archs import build

        return build(spec["arch"], Path(spec["work"]), spec["device"]).to(dtype=dtype)
    from diffusers import DiffusionPipeline

    return DiffusionPipeline.from_pretrained(spec["folder"], torch_dtype=dtype,
                                             local_files_only=True).to(spec["device"])


def child_eager(spec: dict) -> dict:
    import numpy as np
    import torch

    _setup(spec)
    device, g = spec["device"], spec["guidance"]
    t0 = time.perf_counter()
    pipe = _plain_pipeline(spec)
    pipe.set_progress_bar_config(disable=True)
    load_s = time.perf_counter() - t0
    gen_device = "cpu" if device == "cpu" else device

    def run(steps: int, seed: int):
        _sync(device)
        t = time.perf_counter()
        out = pipe(PROMPT, num_inference_steps=steps, guidance_scale=g, width=spec["size"],
                   height=spec["size"], generator=torch.Generator(gen_device).manual_seed(seed),
                   output_type="np").images
        _sync(device)
        return time.perf_counter() - t, out

    run(2, 0)  # warm-up: kernels, allocator, cuDNN/cuBLAS heuristics
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    lo, hi = [], []
    image = None
    for r in range(spec["repeats"]):
        lo.append(run(spec["steps_lo"], r + 1)[0])
        t, out = run(spec["steps"], 0)
        hi.append(t)
        image = out[0]
    np.save(spec["image"], (image * 255).round().astype("uint8"))
    return {"runner": "diffusers-eager", "load_s": round(load_s, 2),
            **_rates(lo, hi, spec["steps_lo"], spec["steps"]),
            "peak_gpu_mem_gib": _peak_gib(device)}


def child_studio(spec: dict) -> dict:
    """The studio engine (or, for FLUX, its FastPath and call path) in a fresh process."""
    _setup(spec)
    if spec["arch"] == "flux-schnell":
        return _studio_direct(spec)
    import numpy as np
    from PIL import Image

    from studio.core.generation.engine import GenerationEngine
    from studio.core.generation.request import GenerationRequest
    from studio.core.library import Library
    from studio.core.settings import FastPathSettings, GenerationSettings

    device = spec["device"]
    home = Path(tempfile.mkdtemp(prefix="bench-studio-", dir=spec["work"]))
    lib = Library(home / "library.sqlite3", home / "store")
    fp = FastPathSettings(**spec["fast_path"])
    engine = GenerationEngine(lib, GenerationSettings(device=device, fast_path=fp),
                              cache_dir=Path(spec["cache_dir"]))
    entry = engine.registry.add(Path(spec["folder"]))

    def run(steps: int, seed: int):
        req = GenerationRequest(model_id=entry.id, model_sha256=entry.sha256, prompt=PROMPT,
                                steps=steps, width=spec["size"], height=spec["size"],
                                scheduler="Euler", guidance=spec["guidance"], seed=seed)
        t = time.perf_counter()
        job = engine.wait(engine.enqueue(req))
        if job.error:
            raise RuntimeError(job.error)
        return time.perf_counter() - t, job

    try:
        first, _ = run(spec["steps"], 0)  # loads the model, applies the fast path, compiles
        report = engine.fast.report
        compile_first = max(report.compile_s.values(), default=0.0)
        steady, _ = run(spec["steps"], 0)
        row = {"runner": "studio-fast-path", "fast_path": report.applied,
               "skipped": report.skipped, "cache_loaded": report.cache_loaded,
               "first_job_s": round(first, 2),
               "compile_s": round(max(0.0, compile_first - steady), 2) if report.compile_s
               else 0.0}
        if spec["phase"] == "cold":
            return row
        if device == "cuda":
            import torch

            torch.cuda.reset_peak_memory_stats()
        lo, hi, job = [], [], None
        for r in range(spec["repeats"]):
            lo.append(run(spec["steps_lo"], r + 1)[0])
            t, job = run(spec["steps"], 0)
            hi.append(t)
        with Image.open(lib.path_of(job.assets[0])) as img:
            np.save(spec["image"], np.asarray(img.convert("RGB")))
        row.update(_rates(lo, hi, spec["steps_lo"], spec["steps"]),
                   peak_gpu_mem_gib=_peak_gib(device), output_stage_busy_s=round(
                       engine._output.busy_s, 3))
        return row
    finally:
        engine.shutdown()
        lib.close()


def _studio_direct(spec: dict) -> dict:
    """FLUX: the engine's FastPath and call convention on an in-memory pipeline."""
    import types

    import numpy as np
    import torch

    from bench.archs import build
    from studio.core.generation.devices import probe_device
    from studio.core.generation.fastpath import FastPath
    from studio.core.generation.transfer import images_to_uint8, start_copy
    from studio.core.settings import FastPathSettings

    device = probe_device(spec["device"])
    pipe = build(spec["arch"], Path(spec["work"]), spec["device"]).to(dtype=torch.bfloat16)
    pipe.set_progress_bar_config(disable=True)
    fast = FastPath(FastPathSettings(**spec["fast_path"]), Path(spec["cache_dir"]))
    model = types.SimpleNamespace(pipe=pipe, entry=types.SimpleNamespace(
        sha256=f"random-{spec['arch']}-seed0", name=spec["arch"]))
    fast.prepare(model, device, spec["family"])

    def run(steps: int, seed: int):
        t = time.perf_counter()
        with fast.call((spec["size"], spec["size"], 1, False), lambda _text: None):
            images = pipe(PROMPT, num_inference_steps=steps, guidance_scale=spec["guidance"],
                          width=spec["size"], height=spec["size"], max_sequence_length=256,
                          generator=[torch.Generator(spec["device"]).manual_seed(seed)],
                          output_type="pt").images
        pixels = start_copy(images_to_uint8(images)).wait()
        return time.perf_counter() - t, pixels

    first, _ = run(spec["steps"], 0)
    steady, _ = run(spec["steps"], 0)
    compile_first = max(fast.report.compile_s.values(), default=0.0)
    row = {"runner": "studio-fast-path (FastPath + engine call path; registry has no FLUX yet)",
           "fast_path": fast.report.applied, "skipped": fast.report.skipped,
           "cache_loaded": fast.report.cache_loaded, "first_job_s": round(first, 2),
           "compile_s": round(max(0.0, compile_first - steady), 2)}
    if spec["phase"] == "cold":
        return row
    torch.cuda.reset_peak_memory_stats()
    lo, hi, pixels = [], [], None
    for r in range(spec["repeats"]):
        lo.append(run(spec["steps_lo"], r + 1)[0])
        t, pixels = run(spec["steps"], 0)
        hi.append(t)
    np.save(spec["image"], pixels[0].numpy())
    row.update(_rates(lo, hi, spec["steps_lo"], spec["steps"]),
               peak_gpu_mem_gib=_peak_gib(spec["device"]))
    return row


def child_build(spec: dict) -> dict:
    """Write the random-weight SD 1.5 / SDXL pipeline as a diffusers folder (fp16)."""
    import torch

    from bench.archs import build

    t = time.perf_counter()
    pipe = build(spec["arch"], Path(spec["work"]), spec["device"])
    pipe.to(dtype=torch.float16).save_pretrained(spec["folder"], safe_serialization=True)
    return {"build_s": round(time.perf_counter() - t, 1)}


CHILDREN = {"eager": child_eager, "studio": child_studio, "build": child_build}


# -- the orchestrator -------------------------------------------------------------------------

def _child(spec: dict, timeout: float, inductor_dir: Path | None = None) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    if inductor_dir is not None:  # an empty Inductor/Triton cache: nothing compiled before
        env.update(TORCHINDUCTOR_CACHE_DIR=str(inductor_dir / "inductor"),
                   TRITON_CACHE_DIR=str(inductor_dir / "triton"))
    t = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], env=env,
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"{spec['kind']} child ran past {timeout:.0f} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            row = json.loads(line[7:])
            row["process_s"] = round(time.perf_counter() - t, 1)
            return row
    tail = (proc.stderr or proc.stdout)[-3000:]
    return {"error": f"{spec['kind']} child exited {proc.returncode}", "stderr_tail": tail}


def _equivalence(a_path: str, b_path: str) -> dict | None:
    import numpy as np

    if not (Path(a_path).exists() and Path(b_path).exists()):
        return None
    a = np.load(a_path).astype(np.float64)
    b = np.load(b_path).astype(np.float64)
    if a.shape != b.shape:
        return {"error": f"shapes differ: {a.shape} vs {b.shape}"}
    diff = a - b
    return {"relative_l2": round(float(np.linalg.norm(diff) / max(np.linalg.norm(a), 1e-9)), 5),
            "mean_abs_levels": round(float(np.abs(diff).mean()), 4),
            "max_abs_levels": int(np.abs(diff).max())}


def run_case(arch: str, args: argparse.Namespace, work: Path, device: str) -> dict:
    from bench.archs import CASES

    if arch == "tiny":
        size, steps, guidance, dtype, family = 64, args.steps or 20, 7.0, "float32", "sd15"
    else:
        size, steps, guidance, dtype, family = CASES[arch]
        steps = args.steps or steps
    steps_lo = max(1, steps // 4) if steps >= 8 else max(1, steps // 2)
    case = work / arch
    case.mkdir(parents=True, exist_ok=True)
    folder = case / "model"
    fast_path = {"enabled": "on", "compile": "on", "compile_scope": args.scope,
                 "compile_vae": args.compile_vae}
    base = {"arch": arch, "family": family, "size": size, "steps": steps, "steps_lo": steps_lo,
            "guidance": guidance, "dtype": dtype, "repeats": args.repeats, "device": device,
            "work": str(case), "folder": str(folder), "threads": args.threads,
            "fast_path": fast_path, "cache_dir": str(case / "compile-cache")}
    row: dict = {"arch": arch, "size": f"{size}x{size}", "steps": steps, "steps_lo": steps_lo,
                 "guidance": guidance, "batch": 1, "scheduler": "Euler" if arch != "flux-schnell"
                 else "FlowMatchEuler"}
    t = time.perf_counter()
    if arch == "tiny":
        from studio.core.generation.demo import build_demo_pipeline

        build_demo_pipeline(folder)
    elif arch != "flux-schnell":
        row["build"] = _child(dict(base, kind="build"), args.timeout)
    row["eager"] = _child(dict(base, kind="eager", image=str(case / "eager.npy")), args.timeout)
    row["studio_cold"] = _child(dict(base, kind="studio", phase="cold",
                                     image=str(case / "cold.npy")), args.timeout,
                                Path(tempfile.mkdtemp(dir=case)))
    row["studio"] = _child(dict(base, kind="studio", phase="cached",
                                image=str(case / "studio.npy")), args.timeout,
                           Path(tempfile.mkdtemp(dir=case)))
    row["compile_s"] = {"cold": row["studio_cold"].get("compile_s"),
                        "cached": row["studio"].get("compile_s")}
    row["equivalence"] = _equivalence(str(case / "eager.npy"), str(case / "studio.npy"))
    e, s = row["eager"].get("it_per_s"), row["studio"].get("it_per_s")
    row["speedup_it_per_s"] = round(s / e, 3) if e and s else None
    row["case_s"] = round(time.perf_counter() - t, 1)
    print(json.dumps({arch: {k: row[k] for k in ("speedup_it_per_s", "compile_s", "equivalence",
                                                  "case_s")}}), file=sys.stderr, flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="CPU run with the tiny demo model")
    parser.add_argument("--out", type=Path, help="folder for the JSON (printed too)")
    parser.add_argument("--archs", default="sd15,sdxl,flux-schnell")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=0, help="override the steps per image")
    parser.add_argument("--scope", default="full", choices=("full", "blocks"))
    parser.add_argument("--no-compile-vae", dest="compile_vae", action="store_false")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads per process (--tiny: 1 unless given)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per process")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        print("RESULT " + json.dumps(CHILDREN[spec["kind"]](spec)), flush=True)
        return 0

    import torch

    started = time.perf_counter()
    if args.tiny:
        device, archs = "cpu", ["tiny"]
        # One thread per process by default: OpenMP teams of 2+ crawl on a shared, loaded
        # machine (a descheduled thread stalls every barrier); --threads N on an idle one.
        args.threads = args.threads or 1
    else:
        if not torch.cuda.is_available():
            print(json.dumps({"error": "no CUDA GPU; use --tiny for the CPU run"}))
            return 2
        device, archs = "cuda", [a for a in args.archs.split(",") if a]
    work = Path(tempfile.mkdtemp(prefix="bench-generate-"))
    results = [run_case(arch, args, work, device) for arch in archs]
    import diffusers

    report = {
        "bench": "generate", "mode": "tiny-cpu" if args.tiny else "full-gpu", "device": device,
        "device_name": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "cpu_count": os.cpu_count(), "threads_per_process": args.threads or None,
        "torch": torch.__version__, "cuda": torch.version.cuda, "diffusers": diffusers.__version__,
        "weights": "random (seeded), full-size configs" if not args.tiny else "tiny demo model",
        "compile_scope": args.scope, "compile_vae": args.compile_vae, "repeats": args.repeats,
        "total_s": round(time.perf_counter() - started, 1), "results": results}
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"generate-{report['mode']}.json").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0 if all("error" not in r.get("studio", {}) and "error" not in r.get("eager", {})
                    for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
