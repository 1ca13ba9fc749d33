"""Time to first paint of the studio window vs a bare PySide6 window, in fresh processes.

Prints JSON: median milliseconds for each, their ratio, and the heavy modules the studio had
loaded when its window first painted (should be none). Run: ``python bench/startup.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HEAVY = ["torch", "diffusers", "transformers", "c2pa", "web3", "eth_account", "accelerate"]

# Each probe runs in its own interpreter; t0 is taken before any import.
PROBE_STUDIO = r"""
import time; t0 = time.perf_counter()
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv)
from studio.app import create_context, create_window
from studio.core.paths import resolve_paths
window = create_window(create_context(resolve_paths()))
def painted():
    ms = (time.perf_counter() - t0) * 1000
    heavy = sorted(m for m in HEAVY if m in sys.modules)
    print(json.dumps({"ms": ms, "heavy": heavy, "section": window.current_section()}))
    QTimer.singleShot(0, app.quit)
window.first_painted.connect(painted)
window.show()
app.exec()
"""

PROBE_BARE = r"""
import time; t0 = time.perf_counter()
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QLabel
app = QApplication(sys.argv)
class W(QMainWindow):
    done = False
    def paintEvent(self, e):
        super().paintEvent(e)
        if not self.done:
            self.done = True
            print(json.dumps({"ms": (time.perf_counter() - t0) * 1000}))
            QTimer.singleShot(0, app.quit)
w = W(); w.setCentralWidget(QLabel("bare")); w.resize(1200, 800); w.show()
app.exec()
"""


def run_probe(code: str, env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", f"HEAVY = {HEAVY!r}\n" + code], env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"probe failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(runs: int) -> dict:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as home:
        env["STUDIO_HOME"] = home
        run_probe(PROBE_STUDIO, env)  # warm the OS file cache and create the library
        studio, bare, heavy = [], [], set()
        for _ in range(runs):
            s = run_probe(PROBE_STUDIO, env)
            studio.append(s["ms"])
            heavy.update(s["heavy"])
            bare.append(run_probe(PROBE_BARE, env)["ms"])
    studio_ms, bare_ms = statistics.median(studio), statistics.median(bare)
    return {
        "runs": runs,
        "platform": env["QT_QPA_PLATFORM"],
        "studio_first_paint_ms": round(studio_ms, 1),
        "bare_pyside6_first_paint_ms": round(bare_ms, 1),
        "ratio": round(studio_ms / bare_ms, 2),
        "studio_ms_all": [round(x, 1) for x in studio],
        "bare_ms_all": [round(x, 1) for x in bare],
        "heavy_modules_loaded": sorted(heavy),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    result = measure(parser.parse_args().runs)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
