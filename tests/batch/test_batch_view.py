"""The Batch section bound to its Qt-free view-model: a real run on the tiny model, cancel, and
retry of failed items; results land in the grid."""

from __future__ import annotations

import shutil

import pytest

from studio.core.generation.registry import ModelRegistry


@pytest.fixture
def section(qtbot, paths, tiny_model, tmp_path):
    from studio.app import create_context
    from studio.ui.sections.batch_section import BatchSection

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    ctx = create_context(paths)
    ModelRegistry(ctx.library).add(model, name="tiny")
    widget = BatchSection(ctx)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: bool(widget.model_box.currentData()), timeout=10_000)
    widget.model_dir = model
    yield widget
    widget.shutdown()
    ctx.close()


def start(section, qtbot, prompts: str, seeds: str, steps: int = 2) -> None:
    section.prompts.setPlainText(prompts)
    section.seeds.setText(seeds)
    section.steps.setValue(steps)
    section.size.setText("64x64")
    with qtbot.waitSignal(section.bridge.running_changed, timeout=5_000):
        section.start_button.click()


def wait_idle(section, qtbot, timeout: int = 120_000) -> None:
    qtbot.waitUntil(lambda: not section.vm.running and section.start_button.isEnabled(),
                    timeout=timeout)


def states(section) -> list[str]:
    return [section.table.item(r, 3).text() for r in range(section.table.rowCount())]


def test_a_batch_runs_off_the_gui_thread_and_fills_the_grid(section, qtbot,
                                                            keyring_ok) -> None:
    progress: list[tuple] = []
    section.bridge.progress.connect(lambda *a: progress.append(a))
    start(section, qtbot, "a fox\na boat", "1-3")
    assert section.cancel_button.isEnabled() and not section.start_button.isEnabled()
    wait_idle(section, qtbot)
    assert states(section) == ["Done"] * 6
    assert section.grid.count() == 6
    assert "6 of 6 done · 0 failed" in section.status.text()
    assert section.progress_bar.value() == 6
    assert progress and progress[-1][:3] == (6, 0, 6) and progress[-1][3] > 0
    assert not section.retry_button.isEnabled()


def test_bad_input_is_shown_not_run(section, qtbot) -> None:
    section.prompts.setPlainText("x")
    section.seeds.setText("5-1")
    section.start_button.click()
    qtbot.waitUntil(lambda: "runs backwards" in section.status.text(), timeout=10_000)
    wait_idle(section, qtbot)
    assert section.table.rowCount() == 0


def test_cancel_then_retry_failed(section, qtbot, keyring_ok) -> None:
    start(section, qtbot, "slow", "1-8")
    qtbot.waitUntil(lambda: "Done" in states(section), timeout=120_000)
    section.cancel_button.click()
    wait_idle(section, qtbot)
    after_cancel = states(section)
    assert 0 < after_cancel.count("Done") < 8 and "Waiting" in after_cancel
    assert "Failed" not in after_cancel

    # The model is removed: the rest fail, each with a clear error; added back: retry them.
    registry = ModelRegistry(section.ctx.library)
    registry.remove(registry.get("tiny").id)
    section.vm.resume(section.vm.batch_id)
    wait_idle(section, qtbot)
    assert states(section).count("Done") == after_cancel.count("Done")
    failed_row = states(section).index("Failed")
    assert "is not registered any more" in section.table.item(failed_row, 3).toolTip()
    assert section.retry_button.isEnabled()
    registry.add(section.model_dir, name="tiny")
    section.retry_button.click()
    wait_idle(section, qtbot)
    assert states(section) == ["Done"] * 8 and section.grid.count() == 8
