"""The Generate section with the real tiny pipeline (pytest-qt)."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from studio.core.generation.engine import JobProgress
from studio.core.generation.registry import ModelRegistry


@pytest.fixture
def window(studio_window):
    return studio_window


def _section(window, tiny_model=None):
    if tiny_model is not None:
        ModelRegistry(window.ctx.library).add(tiny_model)
    window.show_section("generate")
    section = window.page("generate")
    section._reload_models()
    return section


def test_generate_with_ctrl_enter_shows_progress_preview_and_result(window, qtbot,
                                                                    tiny_model) -> None:
    section = _section(window, tiny_model)
    assert section.generate_btn.isEnabled() and section.demo.isHidden()
    pipeline_threads: set[threading.Thread] = set()
    section.engine.add_listener(
        lambda ev: isinstance(ev, JobProgress)
        and pipeline_threads.add(threading.current_thread()))
    section.prompt.setPlainText("a harbour in fog")
    section._select_size(64, 64)
    section.steps.setValue(4)
    qtbot.keyClick(section.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: section.results.count() == 1, timeout=60_000)
    assert pipeline_threads == {section.engine.thread}
    assert threading.main_thread() not in pipeline_threads
    assert section.preview.pixmap() is not None and not section.preview.pixmap().isNull()
    assert section.progress.value() == section.progress.maximum() == 1
    assert section.progress.format().startswith("Done")
    assert window.device_label.text().startswith("Device: CPU")
    assets = window.ctx.library.list_assets()
    assert len(assets) == 1 and assets[0].media_type == "image/png"
    assert (assets[0].width, assets[0].height) == (64, 64)
    assert section.results.item(0).data(Qt.ItemDataRole.UserRole) == assets[0].id
    assert window.ctx.settings.generation.default_steps == 4  # choices are remembered
    # The preview ends on the final image (the stored asset), not the last latent preview.
    assert section.preview.property("asset_id") == assets[0].id
    final = QImage(str(window.ctx.library.path_of(assets[0])))
    shown = section.preview.pixmap().toImage().scaled(64, 64)
    diffs = [abs(shown.pixelColor(x, y).red() - final.pixelColor(x, y).red())
             for x in range(4, 64, 8) for y in range(4, 64, 8)]
    assert max(diffs) <= 40, diffs  # the stored image, up to scaling

    # The result's context menu: open in Library, reuse seed, mint, export.
    item = section.results.item(0)
    menu = section.result_menu(item)
    texts = [a.text().replace("&", "") for a in menu.actions()]
    assert texts[0] == "Open in Library" and texts[2:] == [
        "Reuse settings", "Use as source", "Upscale 2×", "Upscale 4×",
        "Compare with the canvas", "Mint…", "Export…"]
    seed = item.data(Qt.ItemDataRole.UserRole + 1)
    assert texts[1] == f"Reuse seed {seed}" and menu.actions()[1].isEnabled()
    section.random_seed.setChecked(True)
    menu.actions()[1].trigger()
    assert not section.random_seed.isChecked() and section.seed.value() == seed
    # Double-click opens the asset in the Library, selected.
    section.results.itemDoubleClicked.emit(item)
    assert window.current_section() == "library"
    library = window.page("library")
    assert [a.id for a in library.view.selected_assets()] == [assets[0].id]


def test_escape_cancels_and_queue_lists_waiting_jobs(window, qtbot, tiny_model) -> None:
    section = _section(window, tiny_model)
    section.prompt.setPlainText("slow one")
    section._select_size(64, 64)
    section.steps.setValue(20)
    started = []
    gate = threading.Event()

    def hold_first_step(ev) -> None:
        # Holds the worker inside step 1 until Esc was pressed, so the test cannot race it.
        if isinstance(ev, JobProgress) and ev.step == 1 and not started:
            started.append(ev)
            gate.wait(30)

    section.engine.add_listener(hold_first_step)
    first = section.generate()
    section.prompt.setPlainText("waiting one")
    second = section.generate()
    section.prompt.setPlainText("waiting two")
    third = section.generate()
    assert first and second and third
    qtbot.waitUntil(lambda: section.queue.count() == 3 and bool(started), timeout=30_000)

    def queued() -> list[int]:
        return [section.queue.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(section.queue.count())]

    section.queue.setCurrentRow(queued().index(second))
    assert section.remove_btn.isEnabled()
    section.remove_selected()  # the job clicked goes (by id), not whatever is in its row
    qtbot.waitUntil(lambda: queued() == [first, third], timeout=10_000)
    assert not section.remove_job(first)  # the running job is cancelled, not removed
    assert section.remove_job(third)
    qtbot.waitUntil(lambda: queued() == [first], timeout=10_000)
    qtbot.keyClick(section.prompt, Qt.Key.Key_Escape)
    gate.set()
    qtbot.waitUntil(lambda: section.progress.format() == "Cancelled", timeout=30_000)
    assert section.results.count() == 0 and window.ctx.library.count() == 0
    assert not section.cancel_btn.isEnabled()


def test_no_model_offers_the_demo_model_and_bad_input_is_explained(window, qtbot,
                                                                  tmp_path) -> None:
    section = _section(window)
    assert not section.generate_btn.isEnabled() and section.demo.isVisibleTo(section)
    (tmp_path / "bad.safetensors").write_bytes(b"\x01\x02")
    failures: list[str] = []
    section._task_failed = lambda msg: (failures.append(msg), section._set_busy(False, ""))
    section.add_model_path(tmp_path / "bad.safetensors")
    qtbot.waitUntil(lambda: bool(failures), timeout=10_000)
    assert "too short" in failures[0] and section.model.currentData() is None
    qtbot.mouseClick(section.demo, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: section.model.currentData() is not None, timeout=60_000)
    assert "produces noise" in section.model_note.text()
    assert section.size.currentText() == "64 × 64"  # the demo model's size is preselected
    assert section.generate_btn.isEnabled() and section.demo.isHidden()
    section.prompt.setPlainText("   ")
    assert section.generate() is None and "prompt is empty" in section.status.text()


def test_window_start_does_not_import_torch(paths) -> None:
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from studio.app import create_context, create_window\n"
        "from studio.core.paths import resolve_paths\n"
        "app = QApplication([])\n"
        "win = create_window(create_context(resolve_paths()))\n"
        "win.show_section('generate'); win.show(); app.processEvents()\n"
        "heavy = [m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules]\n"
        "print(type(win.page('generate')).__name__, heavy)\n"
        "win.page('generate').shutdown()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.strip() == "GenerateSection []"
