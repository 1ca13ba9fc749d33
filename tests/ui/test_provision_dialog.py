"""The first-run PyTorch dialog over its view-model, against the FAKE local index serving a
tiny stand-in torch wheel (tests/fake_index.py); the machine is told (FAKE) that it
has an NVIDIA driver, so the CUDA variant is chosen."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fake_index import FakeIndex, build_wheel  # tests/fake_index.py (tests/ is on sys.path)

from studio.core.accelerator import FAKE_DRIVER_ENV
from studio.core.runtime import site_dir


def test_dialog_detects_plans_installs_and_cancels(qtbot, paths, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.app import create_context
    from studio.ui.provision_dialog import ProvisionDialog
    from studio.viewmodels.provision import ProvisionModel

    monkeypatch.setenv(FAKE_DRIVER_ENV, "575.57.08")
    # The model puts the new runtime on sys.path when done: keep it out of later tests.
    monkeypatch.setattr(sys, "path", list(sys.path))
    wheel = build_wheel(tmp_path)
    ctx = create_context(paths)
    with FakeIndex(wheel, chunk_delay=0.01) as index:
        vm = ProvisionModel(ctx, index_url=index.url)
        dialog = ProvisionDialog(vm)
        qtbot.addWidget(dialog)
        assert not dialog.install_btn.isEnabled()  # nothing planned yet
        vm.load_plan().start()
        qtbot.waitUntil(lambda: vm.state == "ready", timeout=20_000)
        assert "575.57.08" in dialog.detected.text() and "FAKE" in dialog.detected.text()
        assert dialog.choice.text().startswith("PyTorch cu128 build (cuda)")
        size = f"{wheel.stat().st_size / 2**20:,.0f} MiB"
        assert wheel.name in dialog.download.text() and size in dialog.download.text()
        assert dialog.install_btn.isEnabled() and not dialog.cancel_btn.isEnabled()

        # Cancel mid-download: the dialog offers to resume.
        dialog.install_btn.click()
        qtbot.waitUntil(lambda: 0 < dialog.bar.value() < 100, timeout=20_000)
        assert dialog.cancel_btn.isEnabled() and not dialog.close_btn.isEnabled()
        dialog.cancel_btn.click()
        qtbot.waitUntil(lambda: vm.state == "cancelled", timeout=20_000)
        assert dialog.install_btn.text() == "Resume" and "resumes" in dialog.message.text()
        kept = dialog.bar.value()

        index.chunk_delay = 0.0
        dialog.install_btn.click()
        qtbot.waitUntil(lambda: vm.state in ("done", "failed"), timeout=120_000)
    assert vm.state == "done", vm.message
    assert "PyTorch 2.13.0+cu128 (CUDA 12.8 build)" in dialog.message.text()
    assert "GPU not checked" in dialog.message.text()
    resumed = [r for _m, p, r in index.requests if p.startswith("/files/")][-1]
    assert kept > 0 and resumed.startswith("bytes=") and resumed != "bytes=0-"
    assert (site_dir(paths.data_dir) / "torch" / "version.py").is_file()
    assert str(site_dir(paths.data_dir)) in sys.path  # activated for this process
    assert dialog.close_btn.text() == "Close" and dialog.bar.value() == 100
    ctx.close()


@pytest.fixture
def fake_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    # Before the window: the Generate section checks the device when it is built.
    monkeypatch.setenv(FAKE_DRIVER_ENV, "575.57.08")


def test_generate_section_says_the_gpu_goes_unused(fake_driver, studio_window, qtbot,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Told (FAKE) that an NVIDIA driver is there while this venv has a CPU PyTorch, the
    Generate section says so and offers the setup; the button opens the dialog."""
    import torch

    studio_window.show_section("generate")
    section = studio_window.page("generate")
    if torch.version.cuda or getattr(torch.version, "hip", None):
        pytest.skip("this venv has a GPU build of PyTorch")
    qtbot.waitUntil(lambda: "reinstall the CUDA variant" in section.device_note.text(),
                    timeout=20_000)
    assert section.device_note.text().startswith("⚠ CPU: CPU build of PyTorch installed on a "
                                                 "machine with an NVIDIA GPU")
    assert section.setup_gpu.isVisibleTo(section)
    monkeypatch.setattr("studio.viewmodels.provision.ProvisionModel.load_plan",
                        lambda self: self.studio.runner.run(lambda: None))  # no index here
    section.setup_gpu.click()
    from studio.ui.provision_dialog import ProvisionDialog

    dialogs = [w for w in section.findChildren(ProvisionDialog)]
    assert len(dialogs) == 1 and dialogs[0].isVisible()
    dialogs[0].close()


def test_closing_the_studio_stops_a_download(paths, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool thread must not keep a quitting app alive until the download ends."""
    import queue

    from studio.core.settings import SettingsStore
    from studio.services.studio import Studio
    from studio.viewmodels.provision import ProvisionModel

    monkeypatch.setenv(FAKE_DRIVER_ENV, "575.57.08")
    posted: queue.Queue = queue.Queue()
    studio = Studio(paths, SettingsStore(paths.settings_file), post=posted.put)
    with FakeIndex(build_wheel(tmp_path), chunk_delay=0.3) as index:  # ~15 s in full
        vm = ProvisionModel(studio, index_url=index.url)
        vm.load_plan().start()
        while vm.state != "ready":
            posted.get(timeout=20)()
        progress: list[int] = []
        vm.progress.connect(lambda phase, done, total: progress.append(done))
        op = vm.install().start()
        while not progress:
            posted.get(timeout=20)()
        studio.close()
        assert op.wait(10)  # the worker noticed and stopped
    part = next((paths.data_dir / "runtime").rglob("*.part"))
    assert 0 < part.stat().st_size < index.wheel.stat().st_size  # kept for the next start
