"""Upscale memory and time: a full-size RealESRGAN-x4plus-shaped RRDB (64 filters, 23 blocks,
random weights, loaded through spandrel) over a SIZE² image in TILE² tiles, each run in its own
process so its peak memory is its own. Prints JSON: per configuration the median seconds and
peak memory (CUDA: torch.cuda.max_memory_allocated; CPU: the process's max RSS), over
alternating rounds.

    .venv/bin/python bench/upscale.py --size 1024 --tiles 256 512 --rounds 3   # on a GPU
    .venv/bin/python bench/upscale.py --size 256 --tiles 64 128 --rounds 2     # CPU: small

The claim it checks: a 4x of 1024² fits in 8 GB of GPU memory with 256-px tiles (memory is
one tile's activations plus the 4096² output, whatever the image size).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one_run(model: str, size: int, tile: int, device: str) -> dict:
    import resource
    import time

    import torch
    from PIL import Image

    from studio.core.generation.upscale import load_descriptor, run_tiled

    desc = load_descriptor(Path(model))
    image = Image.effect_noise((size, size), 64).convert("RGB")
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    out = run_tiled(desc, image, device, tile=tile)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    assert out.size == (size * desc.scale, size * desc.scale)
    peak = (torch.cuda.max_memory_allocated() if device == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return {"seconds": seconds, "peak_bytes": peak}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--tiles", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--blocks", type=int, default=23, help="RRDB blocks (23: RealESRGAN)")
    ap.add_argument("--filters", type=int, default=64)
    ap.add_argument("--child", nargs=4, metavar=("MODEL", "SIZE", "TILE", "DEVICE"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        model, size, tile, device = args.child
        print(json.dumps(one_run(model, int(size), int(tile), device)))
        return 0

    import torch
    from safetensors.torch import save_file

    from studio.core.generation.upscale import import_spandrel

    device = args.device if args.device != "auto" else (
        "cuda" if torch.cuda.is_available() else "cpu")
    import_spandrel()
    from spandrel.architectures.ESRGAN import ESRGAN

    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "rrdb-x4.safetensors"
        net = ESRGAN(in_nc=3, out_nc=3, num_filters=args.filters, num_blocks=args.blocks,
                     scale=4)
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(model))
        runs: dict[int, list[dict]] = {t: [] for t in args.tiles}
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        for _ in range(args.rounds):  # alternate the configurations round by round
            for tile in args.tiles:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(model), str(args.size),
                     str(tile), device], capture_output=True, text=True, env=env, check=True)
                runs[tile].append(json.loads(out.stdout.strip().splitlines()[-1]))
    result = {
        "device": device, "size": args.size, "scale": 4, "rounds": args.rounds,
        "model": f"RRDB {args.filters} filters x {args.blocks} blocks (random weights; "
                 "64 x 23 is the RealESRGAN x4plus shape)",
        "by_tile": {str(t): {
            "median_seconds": round(statistics.median(r["seconds"] for r in rs), 3),
            "median_peak_mib": round(statistics.median(r["peak_bytes"] for r in rs) / 2**20, 1),
        } for t, rs in runs.items()},
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
