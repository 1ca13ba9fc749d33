"""Import benchmark: N images (mixed 512-2048 px, JPEG and PNG) made at bench time, imported
through the GUI's ImportController (the same ImportService on a worker thread) while a 10 ms
heartbeat QTimer on the GUI thread measures the longest stall. Prints JSON.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/import.py [--count 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_images(folder: Path, count: int, seed: int = 1) -> int:
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    total = 0
    for i in range(count):
        w, h = rng.randint(512, 2048), rng.randint(512, 2048)
        grad = Image.linear_gradient("L").resize((w, h))
        radial = Image.radial_gradient("L").resize((w, h))
        img = Image.merge("RGB", (grad, radial, grad.rotate(rng.randint(0, 359))))
        draw = ImageDraw.Draw(img)
        for _ in range(6):  # some structure, and distinct bytes per image
            x, y = rng.randint(0, w - 64), rng.randint(0, h - 64)
            draw.rectangle([x, y, x + rng.randint(16, 400), y + rng.randint(16, 400)],
                           fill=(rng.randint(0, 255), rng.randint(0, 255), i % 256))
        path = folder / f"img{i:04}.{'png' if i % 4 == 0 else 'jpg'}"
        img.save(path, quality=90) if path.suffix == ".jpg" else img.save(path, compress_level=1)
        total += path.stat().st_size
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--src", type=Path, default=None,
                        help="a folder of images to import (made there once if empty), so "
                             "alternating runs import the same files")
    args = parser.parse_args()

    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    work = Path(tempfile.mkdtemp(prefix="studio-bench-import-"))
    os.environ["STUDIO_HOME"] = str(work / "home")
    src = args.src or work / "src"
    src.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if not any(src.iterdir()):
        make_images(src, args.count)
    total_bytes = sum(p.stat().st_size for p in src.iterdir())
    args.count = sum(1 for _ in src.iterdir())
    made_s = time.perf_counter() - t0

    from studio.app import create_context
    from studio.core.paths import resolve_paths
    from studio.ui.gallery.importer import importer_for

    app = QApplication.instance() or QApplication(sys.argv)
    ctx = create_context(resolve_paths())
    ctl = importer_for(ctx)

    clock = QElapsedTimer()
    gaps: list[float] = []
    last = [0.0]

    worst = [0.0, 0.0]  # the longest gap and when it ended (ms after the start)

    def beat() -> None:
        now = clock.nsecsElapsed() / 1e6
        gaps.append(now - last[0])
        if gaps[-1] > worst[0]:
            worst[:] = [gaps[-1], now]
        last[0] = now

    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(beat)
    result: dict = {}
    ctl.finished.connect(lambda summary: (result.update(summary=summary), app.quit()))

    clock.start()
    heartbeat.start()
    start = time.perf_counter()
    cpu0 = time.process_time()
    ctl.import_paths([src])
    app.exec()
    elapsed = time.perf_counter() - start
    heartbeat.stop()
    summary = result["summary"]
    gaps.sort()
    stalls = [max(0.0, g - 10.0) for g in gaps]
    out = {
        "files": args.count,
        "megabytes": round(total_bytes / 1e6, 1),
        "generate_s": round(made_s, 1),
        "import_s": round(elapsed, 2),
        "files_per_s": round(len(summary.imported) / elapsed, 1),
        "megabytes_per_s": round(total_bytes / 1e6 / elapsed, 1),
        "imported": len(summary.imported),
        "rejected": len(summary.rejected),
        "heartbeats": len(gaps),
        "gui_stall_max_ms": round(stalls[-1], 1) if stalls else None,
        "gui_stall_p99_ms": round(stalls[int(len(stalls) * 0.99)], 1) if stalls else None,
        "gui_stall_max_at_s": round(worst[1] / 1000, 2),
        "process_cpu_s": round(time.process_time() - cpu0, 2),
        "consistent": ctx.library.check_consistency().ok,
        "cpus": os.cpu_count(),
    }
    ctx.close()
    import shutil

    shutil.rmtree(work, ignore_errors=True)  # never --src: that is the caller's folder
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
