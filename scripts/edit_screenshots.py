"""Screenshots of the image workspace (issue 16) into docs/screenshots/: the canvas with a
painted mask, an outpaint, an upscale compared side by side with its source, and the inspector
showing the three-step edit chain (upscale <- outpaint <- inpaint <- the source).

Run: STUDIO_HOME=$(mktemp -d) xvfb-run -a scripts/with-keyring.sh .venv/bin/python \
         scripts/edit_screenshots.py
The model is the tiny demo model (random weights), so what it paints is noise: the point is
where it paints (only the mask; only the new area) and what the credentials record.
"""

from __future__ import annotations

import io
import os
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "docs" / "screenshots"
SIZE = (1280, 820)


def _sample(path: Path) -> Path:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (128, 128), (40, 90, 160))
    draw = ImageDraw.Draw(img)
    for r in range(60, 0, -6):
        t = r / 60
        draw.ellipse((64 - r, 64 - r, 64 + r, 64 + r),
                     fill=(int(40 * t + 230 * (1 - t)), int(90 * t + 180 * (1 - t)),
                           int(160 * t + 90 * (1 - t))))
    img.save(path)
    return path


def _save(widget, name: str) -> None:
    from PIL import Image
    from PySide6.QtCore import QBuffer, QIODevice

    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    widget.grab().save(buf, "PNG")
    img = Image.open(io.BytesIO(bytes(buf.data()))).convert("RGB")
    img.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(OUT / name, optimize=True)
    print("wrote", OUT / name)


def main() -> int:
    os.environ.setdefault("STUDIO_KEYRING_SERVICE", f"studio-screens-{uuid.uuid4().hex[:8]}")
    from PySide6.QtWidgets import QApplication, QTreeWidget

    app = QApplication(sys.argv)
    from studio.app import create_context, create_window
    from studio.core.generation.demo import DEMO_NAME, build_demo_pipeline
    from studio.core.generation.registry import ModelRegistry
    from studio.core.paths import resolve_paths

    paths = resolve_paths().ensure()
    ctx = create_context(paths)
    build_demo_pipeline(paths.cache_dir / "demo-model")
    ModelRegistry(ctx.library).add(paths.cache_dir / "demo-model", name=DEMO_NAME)
    win = create_window(ctx)
    win.resize(*SIZE)
    win.show()
    OUT.mkdir(parents=True, exist_ok=True)

    def settle(ms: int = 500, until=None, timeout: float = 120) -> None:
        end = time.monotonic() + (timeout if until else ms / 1000)
        while time.monotonic() < end:
            app.processEvents()
            if until is not None and until():
                break
            time.sleep(0.01)
        for _ in range(20):
            app.processEvents()

    win.show_section("generate")
    page = win.page("generate")
    page._reload_models()
    page.steps.setValue(4)
    page.prompt.setPlainText("a lighthouse on a cliff at dusk")
    page.canvas.dropped.emit([_sample(paths.cache_dir / "source.png")])
    settle(until=lambda: page.ws.source is not None)
    source = page.ws.source

    page.set_mode("inpaint")
    page.brush_size.setValue(18)
    page.canvas.paint_stroke([(30, 40), (60, 30), (95, 45)])
    page.canvas.paint_stroke([(40, 95), (85, 100)])
    settle()
    _save(win, "edit-canvas-mask.png")

    count = page.results.count()
    page.generate()
    settle(until=lambda: page.results.count() > count)
    inpainted = ctx.library.get(page.canvas_asset_id())

    page.use_source(inpainted.id)
    page.set_mode("outpaint")
    page.margin_boxes[2].setValue(64)  # right
    page.margin_boxes[3].setValue(32)  # bottom
    page.prompt.setPlainText("the sea around the lighthouse")
    count = page.results.count()
    page.generate()
    settle(until=lambda: page.results.count() > count)
    outpainted = ctx.library.get(page.canvas_asset_id())
    page.set_mode("generate")
    page._show_asset(outpainted)
    page.status.setText(f"Outpainted: {inpainted.width}×{inpainted.height} → "
                        f"{outpainted.width}×{outpainted.height}; the source area is unchanged.")
    settle()
    _save(win, "edit-outpaint.png")

    page.upscale(outpainted.id, 4)
    settle(until=lambda: page.canvas_asset_id() not in (None, outpainted.id))
    upscaled = ctx.library.get(page.canvas_asset_id())
    page.compare_with(outpainted.id, "side")
    settle()
    _save(win, "edit-upscale.png")

    win.show_section("library")
    library = win.page("library")
    settle(800)
    library.select_asset(upscaled.id)
    settle(until=lambda: getattr(library.inspector, "report", None) is not None)
    for tree in library.inspector.findChildren(QTreeWidget):
        tree.expandAll()
    settle(800)
    _save(win, "edit-chain-inspector.png")
    print("chain:", source.id, "->", inpainted.id, "->", outpainted.id, "->", upscaled.id)
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
