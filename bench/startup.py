"""Time to first paint of the studio window vs a bare PySide6 window, in fresh processes.

Prints JSON: median milliseconds for each, their ratio, and the heavy modules the studio had
loaded when its window first painted (should be none). Run: ``python bench/startup.py``.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile

# Not loaded when the window first paints: the ML and chain stacks, image decoding, the
# generation engine and the signer (first Generate / first thumbnail), the event hub and the
# runner (psygnal pulls in importlib.metadata), asyncio (run_app loads it after the paint).
HEAVY = ["torch", "diffusers", "transformers", "c2pa", "web3", "eth_account", "accelerate",
         "PIL", "numpy", "studio.core.generation.engine", "studio.core.provenance.signing",
         "studio.core.provenance.studio_signer", "psygnal", "asyncio", "sqlite3"]
# Not loaded either once the window is idle with its default section (Generate) built: they
# wait for the first Generate, edit or thumbnail.
IDLE_HEAVY = ["torch", "diffusers", "transformers", "c2pa", "web3", "eth_account", "PIL",
              "numpy", "studio.core.generation.engine", "studio.core.provenance.signing",
              "studio.core.provenance.studio_signer"]

# Each probe runs in its own interpreter; t0 is taken before any import.
PROBE_STUDIO = r"""
import time; t0 = time.perf_counter()
import json, sys
from PySide6.QtCore import QTimer
from studio.app import create_application, create_context, create_window
app = create_application(sys.argv)  # as run_app makes it
from studio.core.paths import resolve_paths
window = create_window(create_context(resolve_paths()))
out = {}
def painted():
    out["ms"] = (time.perf_counter() - t0) * 1000
    out["cpu_ms"] = time.process_time() * 1000  # this process's CPU, interpreter start included
    out["heavy"] = sorted(m for m in HEAVY if m in sys.modules)
    out["section"] = window.current_section()
    QTimer.singleShot(IDLE_MS, idle)  # the section is built after the paint: then idle
def idle():
    out["rss_mib"] = rss_mib()
    out["idle_heavy"] = sorted(m for m in IDLE_HEAVY if m in sys.modules)
    out["idle_section"] = type(window.stack.currentWidget()).__name__
    print(json.dumps(out))
    app.quit()
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
            ms = (time.perf_counter() - t0) * 1000
            cpu = time.process_time() * 1000
            QTimer.singleShot(IDLE_MS, lambda: (print(json.dumps(
                {"ms": ms, "cpu_ms": cpu, "rss_mib": rss_mib()})), app.quit()))
w = W(); w.setCentralWidget(QLabel("bare")); w.resize(1200, 800); w.show()
app.exec()
"""


# Resident memory once the window has sat idle a moment (Linux /proc; else the peak).
RSS = r"""
IDLE_MS = 1500
def rss_mib():
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)
"""


def run_probe(code: str, env: dict[str, str]) -> dict:
    code = code.replace("import json, sys\n", "import json, sys\n" + RSS, 1)
    head = f"HEAVY = {HEAVY!r}\nIDLE_HEAVY = {IDLE_HEAVY!r}\n"
    out = subprocess.run([sys.executable, "-c", head + code], env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"probe failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compile_bytecode() -> None:
    """Write the studio's ``.pyc`` files, as the set-up and the installer ship them: with
    ``PYTHONDONTWRITEBYTECODE`` set, each start would otherwise compile every changed module."""
    studio_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "studio")
    compileall.compile_dir(studio_dir, quiet=1)


def measure(runs: int) -> dict:
    compile_bytecode()
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as home:
        env["STUDIO_HOME"] = home
        run_probe(PROBE_STUDIO, env)  # warm the OS file cache and create the library
        studio, bare, heavy, idle_heavy, idle_sections = [], [], set(), set(), set()
        studio_rss, bare_rss, studio_cpu, bare_cpu = [], [], [], []
        for _ in range(runs):  # alternating, so load changes hit both sides alike
            s = run_probe(PROBE_STUDIO, env)
            studio.append(s["ms"])
            studio_rss.append(s["rss_mib"])
            studio_cpu.append(s["cpu_ms"])
            heavy.update(s["heavy"])
            idle_heavy.update(s["idle_heavy"])
            idle_sections.add(s["idle_section"])
            b = run_probe(PROBE_BARE, env)
            bare.append(b["ms"])
            bare_rss.append(b["rss_mib"])
            bare_cpu.append(b["cpu_ms"])
    studio_ms, bare_ms = statistics.median(studio), statistics.median(bare)
    s_rss, b_rss = statistics.median(studio_rss), statistics.median(bare_rss)
    return {
        "runs": runs,
        "platform": env["QT_QPA_PLATFORM"],
        "studio_first_paint_ms": round(studio_ms, 1),
        "bare_pyside6_first_paint_ms": round(bare_ms, 1),
        "ratio": round(studio_ms / bare_ms, 2),
        "studio_ms_all": [round(x, 1) for x in studio],
        "bare_ms_all": [round(x, 1) for x in bare],
        # CPU time to first paint: steadier than wall time on a loaded machine.
        "studio_cpu_ms": round(statistics.median(studio_cpu), 1),
        "bare_cpu_ms": round(statistics.median(bare_cpu), 1),
        "cpu_ratio": round(statistics.median(studio_cpu) / statistics.median(bare_cpu), 2),
        "heavy_modules_loaded": sorted(heavy),
        "idle_section": sorted(idle_sections),
        "idle_heavy_modules_loaded": sorted(idle_heavy),
        "studio_idle_rss_mib": round(s_rss, 1),
        "bare_idle_rss_mib": round(b_rss, 1),
        "rss_ratio": round(s_rss / b_rss, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    result = measure(parser.parse_args().runs)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
