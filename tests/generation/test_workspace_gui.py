"""The image workspace in the real window (pytest-qt), the real tiny pipeline, c2pa and the
keyring: a mask painted through the canvas's public API inpaints only the masked area; reuse,
A1111 drops, outpaint, upscale, compare and the prompt history."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, PngImagePlugin
from PySide6.QtCore import QPointF

from studio.core.generation.registry import ModelRegistry
from studio.viewmodels.workspace import MaskModel


@pytest.fixture
def section(studio_window, tiny_model):
    import keyring

    from studio.core.wallet.vault import backend_problem

    problem = backend_problem(keyring.get_keyring())
    if problem:
        pytest.skip(f"no usable OS keyring ({problem}); run through scripts/with-keyring.sh")
    ModelRegistry(studio_window.ctx.library).add(tiny_model)
    studio_window.resize(1200, 800)
    studio_window.show_section("generate")
    page = studio_window.page("generate")
    page._reload_models()
    page._select_size(64, 64)
    page.steps.setValue(2)
    page.prompt.setPlainText("a lighthouse")
    return page


def _generate(section, qtbot) -> object:
    before = section.results.count()
    assert section.generate() is not None, section.status.text()
    qtbot.waitUntil(lambda: section.results.count() == before + 1, timeout=60_000)
    return section.ctx.library.get(section.canvas_asset_id())


def _pixels(section, asset) -> np.ndarray:
    with Image.open(section.ctx.library.path_of(asset)) as img:
        return np.asarray(img.convert("RGB"))


def test_paint_a_mask_on_the_canvas_and_inpaint(section, qtbot) -> None:
    source = _generate(section, qtbot)
    assert section.canvas.pixmap().width() == 64  # the final image replaced the preview
    section.use_source(source.id)
    section.set_mode("inpaint")
    assert section.canvas.painting and section.mask_tools.isVisibleTo(section)
    section.brush_size.setValue(12)
    section.feather.setValue(0)
    section.canvas.paint_stroke([(10, 10), (40, 30)])
    section.canvas.paint_stroke([(30, 20)], erase=True)  # an eraser stroke
    mask = section.ws.mask.export()
    assert np.asarray(mask)[20, 30] == 0 and np.asarray(mask)[10, 10] == 255
    # Mouse coordinates map onto image pixels through the view transform.
    widget_point = section.canvas.to_widget(QPointF(32, 32))
    assert abs(section.canvas.to_image(widget_point).x() - 32) < 1e-6
    section.prompt.setPlainText("a red lighthouse")
    result = _generate(section, qtbot)
    assert result.id != source.id and section.status.text().startswith("1 image")
    keep = np.asarray(mask) == 0
    assert np.array_equal(_pixels(section, result)[keep], _pixels(section, source)[keep])
    assert (_pixels(section, result)[~keep] != _pixels(section, source)[~keep]).any()

    # Reuse settings on the result restores the whole request: prompt, seed, mode, mask.
    seed = section.seed.value()
    section.prompt.setPlainText("something else")
    section.ws.mask.clear()
    section.reuse_settings(result.id)
    qtbot.waitUntil(lambda: section.prompt.toPlainText() == "a red lighthouse", timeout=20_000)
    assert section.seed.value() == seed and not section.random_seed.isChecked()
    assert section.ws.mode == "inpaint" and np.array_equal(
        np.asarray(section.ws.mask.image), np.asarray(mask))

    # Compare the result with its source: a slider over the canvas.
    section.compare_mode.setCurrentIndex(section.compare_mode.findData("slider"))
    section.canvas.setProperty("asset_id", result.id)
    section._update_compare()
    assert section.canvas.compare_mode == "slider"


def test_outpaint_upscale_and_history(section, qtbot) -> None:
    source = _generate(section, qtbot)
    section.use_source(source.id)
    section.set_mode("outpaint")
    assert section.strength.value() == 100  # outpaint starts the new area from noise
    section.margin_boxes[2].setValue(32)  # right
    section.margin_boxes[1].setValue(8)  # top
    out = _generate(section, qtbot)
    assert (out.width, out.height) == (96, 72)
    assert np.array_equal(_pixels(section, out)[8:, :64], _pixels(section, source))

    section.upscale(out.id, 2)
    qtbot.waitUntil(lambda: section.canvas.pixmap().width() == 192, timeout=30_000)
    assert "new signed asset" in section.status.text()
    up = section.ctx.library.get(section.canvas_asset_id())
    assert (up.width, up.height) == (192, 144)

    from studio.ui.generate.history_dialog import HistoryDialog

    dialog = HistoryDialog(section.ws, section.current_model().id, section)
    texts = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert texts == ["a lighthouse"]  # used three times, listed once
    dialog.search.setText("nothing like it")
    assert dialog.list.count() == 0
    dialog.search.setText("LIGHT")
    dialog.accept()
    assert dialog.chosen.prompt == "a lighthouse" and dialog.chosen.uses == 2


def test_a1111_png_on_the_settings_panel_restores_and_tells_what_was_not_mapped(
        section, qtbot, tmp_path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a castle, at night\nNegative prompt: fog\nSteps: 7, "
                  "Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 3.5, Seed: 1234, "
                  "Size: 64x64, Model hash: 0badc0ffee, Clip skip: 2")
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "gray").save(buf, format="PNG", pnginfo=info)
    (tmp_path / "a1111.png").write_bytes(buf.getvalue())
    section.restore_settings_from_file(tmp_path / "a1111.png")
    qtbot.waitUntil(lambda: section.prompt.toPlainText() == "a castle, at night",
                    timeout=20_000)
    assert section.negative.toPlainText() == "fog" and section.steps.value() == 7
    assert section.scheduler.currentText() == "DPM++ 2M Karras"
    assert section.seed.value() == 1234 and section.guidance.value() == 3.5
    status = section.status.text()
    assert "Not mapped" in status and "Clip skip: 2" in status and "0badc0ffee" in status

    # A dropped plain image on the canvas becomes the source (imported first).
    section.canvas.dropped.emit([tmp_path / "a1111.png"])
    qtbot.waitUntil(lambda: section.ws.source is not None, timeout=20_000)
    assert section.ws.mode == "img2img" and section.source_label.text().startswith("Source")
    section.restore_settings_from_file(tmp_path / "missing.png")
    qtbot.waitUntil(lambda: "missing.png" in section.status.text(), timeout=20_000)


def test_mask_model_undo_redo_invert_clear() -> None:
    mask = MaskModel()
    with pytest.raises(Exception, match="source image"):
        mask.paint([(1, 1)])
    mask.reset((32, 32))
    assert mask.is_empty and not mask.can_undo
    mask.brush = 4
    mask.paint([(8, 8), (20, 8)])
    painted = np.asarray(mask.image).copy()
    assert painted[8, 14] == 255 and painted[20, 20] == 0
    mask.invert()
    assert np.asarray(mask.image)[20, 20] == 255
    assert mask.undo() and np.array_equal(np.asarray(mask.image), painted)
    assert mask.redo() and np.asarray(mask.image)[8, 14] == 0
    mask.clear()
    assert mask.is_empty
    assert mask.undo() and mask.undo() and np.array_equal(np.asarray(mask.image), painted)
    mask.feather = 3
    soft = np.asarray(mask.export())
    assert 0 < soft[8, 4] < 255 or 0 < soft[4, 14] < 255  # the feathered edge blends


def test_add_an_upscaler_and_use_it_from_the_upscale_menu(section, qtbot, tmp_path) -> None:
    from tests.generation.test_edits import _tiny_esrgan

    source = _generate(section, qtbot)
    section.add_upscaler_path(_tiny_esrgan(tmp_path / "tiny-x2.safetensors", 2))
    qtbot.waitUntil(lambda: "Upscaler ready" in section.status.text(), timeout=30_000)
    section._fill_upscale_menu()
    actions = {a.text(): a for a in section.upscale_menu.actions()}
    assert "2× (Lanczos, no model)" in actions
    [with_model] = [a for t, a in actions.items() if t.startswith("2× with tiny-x2")]
    with_model.trigger()
    qtbot.waitUntil(lambda: section.canvas_asset_id() not in (None, source.id), timeout=30_000)
    up = section.ctx.library.get(section.canvas_asset_id())
    assert (up.width, up.height) == (128, 128)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a model")
    failures: list[str] = []
    section._task_failed = lambda msg: (failures.append(msg), section._set_busy(False, ""))
    section.add_upscaler_path(junk)
    qtbot.waitUntil(lambda: bool(failures), timeout=30_000)
    assert "junk.pth" in failures[0]
