"""Batch rendering throughput: the local engine vs Ray with 1 and 2 CPU workers, tiny model.

    .venv/bin/python bench/batch.py [--items 12] [--rounds 3] [--steps 4] [--size 64]

Prints JSON. Starts a private local Ray. Each round runs every mode once, in
alternating order, on warmed-up workers (models loaded); figures are medians over rounds.
Rendering only: signing is the same local step for every backend, so it is left out.

- ``items_per_s``: items / wall time of one batch, per mode.
- ``scaling_2_vs_1_workers``: Ray 2 workers over Ray 1 worker.
- ``ray_overhead_ms_per_item``: Ray 1 worker's time per item minus the local engine's at one
  torch thread (what a Ray actor with ``num_cpus=1`` gets): the cost of the Ray path itself
  (serialising the request and PNG, scheduling, the actor hop).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)  # for the Ray workers


def timed(backend: Any, requests: list) -> float:
    t0 = time.perf_counter()
    results = list(backend.render(enumerate(requests)))
    elapsed = time.perf_counter() - t0
    bad = [r.error for r in results if not r.ok]
    if bad:
        raise SystemExit(f"bench: an item failed: {bad[0]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--size", type=int, default=64)
    args = ap.parse_args()

    import ray
    import torch

    from studio.core.batch.plan import Options, matrix
    from studio.core.generation.backends import LocalBackend
    from studio.core.generation.demo import build_demo_pipeline
    from studio.core.generation.engine import GenerationEngine
    from studio.core.generation.ray_backend import RayBackend
    from studio.core.generation.registry import ModelRegistry
    from studio.core.library import Library
    from studio.core.settings import GenerationSettings

    root = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    build_demo_pipeline(root / "tiny")
    lib = Library(root / "lib.sqlite3", root / "store")
    registry = ModelRegistry(lib)
    entry = registry.add(root / "tiny", name="tiny")
    gen = GenerationSettings()
    requests = matrix([entry], ["a lighthouse at dusk"], list(range(args.items)),
                      Options(steps=args.steps, size=(args.size, args.size),
                              scheduler="Euler"), gen)
    warm = requests[:2]

    # 3 logical CPUs: the 1-worker and the 2-worker pools both stay up (3 actors, num_cpus=1
    # each) so rounds can alternate; only one pool renders at a time.
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False)
    # An engine's worker thread keeps the torch thread count it was created with, so the
    # one-thread engine (what an actor with num_cpus=1 gets) is made under set_num_threads(1).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    local1 = LocalBackend(GenerationEngine(lib, gen, preview_every=1 << 30))
    timed(local1, warm)
    torch.set_num_threads(threads)
    local = LocalBackend(GenerationEngine(lib, gen, preview_every=1 << 30))
    ray1 = RayBackend("auto", lambda r: registry.get(r.model_id), workers=1, settings=gen)
    ray2 = RayBackend("auto", lambda r: registry.get(r.model_id), workers=2, settings=gen)
    modes = {"local": lambda: timed(local, requests),
             "local_1thread": lambda: timed(local1, requests),
             "ray_1_worker": lambda: timed(ray1, requests),
             "ray_2_workers": lambda: timed(ray2, requests)}
    load_before = os.getloadavg()
    for backend in (local, ray1, ray2):
        timed(backend, warm * 2)  # load the model in every worker
    seconds: dict[str, list[float]] = {m: [] for m in modes}
    names = list(modes)
    for r in range(args.rounds):
        order = names if r % 2 == 0 else names[::-1]  # alternate to spread machine noise
        for m in order:
            seconds[m].append(modes[m]())
            print(f"round {r + 1} {m}: {seconds[m][-1]:.2f}s", file=sys.stderr, flush=True)
    for b in (ray1, ray2):
        b.close()
    local.engine.shutdown()
    local1.engine.shutdown()
    ray.shutdown()
    lib.close()

    med = {m: statistics.median(v) for m, v in seconds.items()}
    ips = {m: round(args.items / s, 3) for m, s in med.items()}
    per_item = {m: s / args.items for m, s in med.items()}
    print(json.dumps({
        "bench": "batch", "model": "tiny demo (SD 1.5 architecture, random weights)",
        "items": args.items, "rounds": args.rounds, "steps": args.steps,
        "size": f"{args.size}x{args.size}", "cpu_count": os.cpu_count(),
        "torch_threads_local": threads, "machine": platform.platform(),
        "load_average_before_after": [round(x, 1) for x in (*load_before,
                                                            *os.getloadavg())],
        "items_per_s": ips,
        "scaling_2_vs_1_workers": round(ips["ray_2_workers"] / ips["ray_1_worker"], 3),
        "ray_2_workers_vs_local": round(ips["ray_2_workers"] / ips["local"], 3),
        "ray_overhead_ms_per_item": round(
            1000 * (per_item["ray_1_worker"] - per_item["local_1thread"]), 1),
        "seconds_per_run": {m: [round(x, 3) for x in v] for m, v in seconds.items()},
        "note": "rendering only (signing is the same local step for every backend); "
                "load averages above the core count mean a shared, oversubscribed machine",
    }, indent=2))


if __name__ == "__main__":
    main()
