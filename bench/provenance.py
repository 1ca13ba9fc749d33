"""Sign/verify time and file-size overhead of provenance for noise-ish PNGs.

Run inside a keyring session (the signing key lives there):
    scripts/with-keyring.sh .venv/bin/python bench/provenance.py
Prints JSON. Target: signing adds < 100 ms and < 15 % size at 1024x1024.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


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
    results = []
    for size in (512, 1024, 2048):
        png = _png(size)
        sign_ms, verify_ms = [], []
        for _ in range(5):
            t = time.perf_counter()
            signed = sign(png, request, 1)
            sign_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            state = read_report_bytes(signed).state
            verify_ms.append((time.perf_counter() - t) * 1000)
        results.append({
            "size": f"{size}x{size}", "png_bytes": len(png), "signed_bytes": len(signed),
            "overhead_bytes": len(signed) - len(png),
            "overhead_pct": round(100 * (len(signed) - len(png)) / len(png), 2),
            "sign_ms_median": round(statistics.median(sign_ms), 1),
            "verify_ms_median": round(statistics.median(verify_ms), 1),
            "state": str(state),
        })
    print(json.dumps({"benchmark": "provenance", "results": results}, indent=2))


if __name__ == "__main__":
    main()
