"""Sign/verify time and file-size overhead of provenance (manifest + thumbnail + wallet
binding) for PNGs that compress like real renders.

Run inside a keyring session (the signing key lives there):
    scripts/with-keyring.sh .venv/bin/python bench/provenance.py [--rounds N]
Prints JSON: medians over rounds that alternate between the sizes. Goals: signing <= 50 ms and
<= 10 % size overhead at 1024x1024 (1 MP); 64x64 is reported, not a goal.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIZES = (64, 512, 1024, 2048)


def _png(size: int) -> bytes:
    from PIL import Image

    # Smooth gradient plus mild noise: compresses like a real render, unlike pure noise.
    base = Image.linear_gradient("L").resize((size, size)).convert("RGB")
    noise = Image.effect_noise((size, size), 24).convert("RGB")
    img = Image.blend(base, noise, 0.25)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    os.environ.setdefault("STUDIO_HOME", tempfile.mkdtemp(prefix="bench-prov-"))
    from eth_account import Account

    from studio.core.paths import resolve_paths
    from studio.core.provenance.reader import read_report_bytes
    from studio.core.provenance.signing import make_generation_signer
    from studio.core.settings import Settings

    settings = Settings()
    settings.provenance.creator_name = "Bench"
    sign = make_generation_signer(resolve_paths().ensure(), settings,
                                  Account.from_key("0x" + "11" * 32))
    request = {"prompt": "bench", "steps": 20, "width": 0, "height": 0}
    sign(_png(64), request, 0)  # first call creates the identity: not part of the figures
    pngs = {s: _png(s) for s in SIZES}
    sign_ms: dict[int, list[float]] = {s: [] for s in SIZES}
    verify_ms: dict[int, list[float]] = {s: [] for s in SIZES}
    signed: dict[int, bytes] = {}
    for _ in range(args.rounds):  # alternate sizes each round, so drift hits all alike
        for size in SIZES:
            t = time.perf_counter()
            signed[size] = sign(pngs[size], request, 1)
            sign_ms[size].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            read_report_bytes(signed[size])
            verify_ms[size].append((time.perf_counter() - t) * 1000)
    results = []
    for size in SIZES:
        report = read_report_bytes(signed[size])
        png, out = pngs[size], signed[size]
        results.append({
            "size": f"{size}x{size}", "png_bytes": len(png), "signed_bytes": len(out),
            "overhead_bytes": len(out) - len(png),
            "overhead_pct": round(100 * (len(out) - len(png)) / len(png), 2),
            "thumbnail_bytes": len(report.thumbnail or b""),
            "sign_ms_median": round(statistics.median(sign_ms[size]), 1),
            "verify_ms_median": round(statistics.median(verify_ms[size]), 1),
            "state": str(report.state),
        })
    one_mp = next(r for r in results if r["size"] == "1024x1024")
    print(json.dumps({
        "benchmark": "provenance", "rounds": args.rounds, "results": results,
        "goals_1mp": {"sign_ms<=50": one_mp["sign_ms_median"] <= 50,
                      "overhead_pct<=10": one_mp["overhead_pct"] <= 10},
    }, indent=2))


if __name__ == "__main__":
    main()
