"""Screenshots of the model manager and the Generate section's LoRA list
(docs/screenshots/models-manager.png, generate-loras.png).

    xvfb-run -a scripts/with-keyring.sh .venv/bin/python scripts/models_screenshot.py

Runs in a throw-away studio home against the FAKE hub of tests/models/fake_hub.py (through
HF_ENDPOINT): a tiny random-weight SD 1.5 checkpoint is downloaded for real through the dialog,
and a LoRA made with peft on it is registered.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _wait(app, cond, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not cond():
        app.processEvents()
        time.sleep(0.02)
        if time.monotonic() > end:
            raise TimeoutError("the dialog did not get there")


def main(out_dir: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="models-shots-"))
    os.environ["STUDIO_HOME"] = str(tmp / "home")
    os.environ["HF_HUB_CACHE"] = str(tmp / "hf-cache")
    from tests.models.fake_hub import FakeHub, FakeRepo

    hub = FakeHub().start()
    os.environ["HF_ENDPOINT"] = hub.url

    from PySide6.QtWidgets import QApplication

    from studio.app import create_context, create_window
    from studio.core.generation.demo import build_demo_pipeline, write_single_file
    from studio.core.generation.lora import LoraRegistry
    from studio.core.paths import resolve_paths
    from studio.ui.models_dialog import ModelsDialog
    from tests.generation.test_lora import _make_lora

    app = QApplication.instance() or QApplication([])
    pipe = build_demo_pipeline(tmp / "tiny")
    single = write_single_file(pipe, tmp / "tiny.safetensors")
    hub.add(FakeRepo("fake-org/tiny-sd15-checkpoint", {
        "tiny-sd15.safetensors": single.read_bytes()}, licence="creativeml-openrail-m"))
    lora = _make_lora(tmp / "tiny", tmp / "ink-style.safetensors", 1, {
        "ss_output_name": "ink style", "modelspec.trigger_phrase": "inkdrawing"})

    window = create_window(create_context(resolve_paths().ensure()))
    window.resize(1280, 860)
    window.show()
    LoraRegistry(window.ctx.library).add(lora)

    dialog = ModelsDialog(window.ctx, window)
    dialog.show()
    dialog.repo.setText("fake-org/tiny-sd15-checkpoint")
    dialog.check_btn.click()
    _wait(app, dialog.download_btn.isEnabled)
    dialog.download_btn.click()
    _wait(app, lambda: dialog.table.rowCount() == 2)
    app.processEvents()
    out_dir.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(out_dir / "models-manager.png"))
    dialog.close()

    window.show_section("generate")
    section = window.page("generate")
    section._reload_models()
    section.prompt.setPlainText("a lighthouse at dusk, inkdrawing")
    section.lora_box.set_weight(next(iter(section.lora_box.rows)), 0.8)
    for _ in range(20):
        app.processEvents()
    section.grab().save(str(out_dir / "generate-loras.png"))
    window.shutdown()
    hub.stop()
    print(f"wrote {out_dir / 'models-manager.png'} and {out_dir / 'generate-loras.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
