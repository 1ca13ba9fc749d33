"""Screenshots of the first-run PyTorch dialog mid-download (docs/screenshots/
provision-dialog.png) and of the Generate section's device line (generate-device-line.png).
The machine is told (FAKE) it has NVIDIA driver 575.57.08, and a FAKE local index serves a
stand-in torch wheel (tests/fake_index.py).

Run: STUDIO_HOME=$(mktemp -d) xvfb-run -a .venv/bin/python scripts/provision_screenshot.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
os.environ.setdefault("STUDIO_FAKE_NVIDIA_DRIVER", "575.57.08")


def main() -> int:
    from fake_index import FakeIndex, build_wheel
    from PySide6.QtWidgets import QApplication

    from studio.app import create_context
    from studio.core.paths import resolve_paths
    from studio.ui.provision_dialog import ProvisionDialog
    from studio.ui.theme import apply_theme
    from studio.viewmodels.provision import ProvisionModel

    app = QApplication(sys.argv)
    apply_theme(app, "light")
    ctx = create_context(resolve_paths())

    def wait(cond, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while not cond():
            app.processEvents()
            time.sleep(0.01)
            if time.monotonic() > end:
                raise TimeoutError

    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(Path(tmp), blob_bytes=40 * 2**20)
        with FakeIndex(wheel, chunk_delay=0.01) as index:
            vm = ProvisionModel(ctx, index_url=index.url)
            dialog = ProvisionDialog(vm)
            dialog.resize(640, 330)
            dialog.show()
            vm.load_plan().start()
            wait(lambda: vm.state == "ready")
            dialog.install_btn.click()
            wait(lambda: dialog.bar.value() >= 37)
            for _ in range(10):
                app.processEvents()
            out = REPO / "docs" / "screenshots" / "provision-dialog.png"
            dialog.grab().toImage().convertToFormat(
                dialog.grab().toImage().Format.Format_Indexed8).save(str(out))
            print(out, out.stat().st_size)
            vm.cancel()
            wait(lambda: vm.state == "cancelled")
    from studio.app import create_window

    window = create_window(ctx)
    window.resize(1024, 700)
    window.show()
    window.show_section("generate")
    section = window.page("generate")
    wait(lambda: "CUDA" in section.device_note.text() or "CPU" in section.device_note.text())
    for _ in range(10):
        app.processEvents()
    out = REPO / "docs" / "screenshots" / "generate-device-line.png"
    image = window.grab().toImage()
    image.convertToFormat(image.Format.Format_Indexed8).save(str(out))
    print(out, out.stat().st_size)
    window.shutdown()
    ctx.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
