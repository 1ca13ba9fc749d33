import json
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from studio.app import create_context, create_window
from studio.ui.sections import SECTIONS

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(studio_window):
    return studio_window


def test_window_switches_every_section(window, qtbot) -> None:
    assert window.current_section() == "generate"
    for spec in [*SECTIONS[1:], SECTIONS[0]]:
        with qtbot.waitSignal(window.section_changed, timeout=10_000) as blocker:
            window.show_section(spec.key)
        assert blocker.args == [spec.key]
        assert window.stack.currentWidget() is window.page(spec.key)
    assert [s.key for s in SECTIONS] == ["generate", "library", "wallet", "activity", "batch",
                                       "settings"]


def test_status_bar_fields(window) -> None:
    window.set_status("account", "Account: 0xabc")
    assert window.account_label.text() == "Account: 0xabc"
    assert window.device_label.text() and window.chain_label.text()


def test_geometry_and_last_section_are_restored(qtbot, paths) -> None:
    ctx = create_context(paths)
    win = create_window(ctx)
    qtbot.addWidget(win)
    win.show()
    win.resize(760, 520)
    win.show_section("settings")
    win.close()  # saves settings
    ctx2 = create_context(paths)
    again = create_window(ctx2)
    qtbot.addWidget(again)
    assert again.current_section() == "settings"
    assert (again.width(), again.height()) == (760, 520)


def test_corrupt_settings_produce_a_notice(paths) -> None:
    paths.ensure()
    paths.settings_file.write_text("garbage{")
    ctx = create_context(paths)
    assert ctx.notices and "could not be read" in ctx.notices[0]


def test_excepthook_logs_and_shows_dialog(window, qtbot, paths, monkeypatch) -> None:
    from studio.core.logging_setup import setup_logging
    from studio.ui import errors

    setup_logging(paths.log_dir)
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box.text()) or 0)
    try:
        raise RuntimeError("boom in a slot")
    except RuntimeError as exc:
        errors.excepthook(type(exc), exc, exc.__traceback__)
    qtbot.waitUntil(lambda: bool(shown), timeout=5_000)
    assert shown == ["RuntimeError: boom in a slot"]
    assert "boom in a slot" in (paths.log_dir / "studio.log").read_text()


def test_window_paints_without_heavy_imports(studio_home) -> None:
    # A fresh interpreter: other tests in this process import torch.
    out = subprocess.run([sys.executable, str(REPO / "bench" / "startup.py"), "--runs", "1"],
                         capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout)
    # At first paint: no ML/chain stack, no PIL, engine, signer, psygnal, asyncio or SQLite.
    assert result["heavy_modules_loaded"] == []
    assert result["studio_first_paint_ms"] > 0
    # Idle with the default section built: the engine, PIL and the signer still wait for the
    # first Generate.
    assert result["idle_section"] == ["GenerateSection"]
    assert result["idle_heavy_modules_loaded"] == []


def test_status_bar_shows_active_account_at_start(qtbot, paths) -> None:
    from studio.core.settings import WalletAccount

    ctx = create_context(paths)
    address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    ctx.settings.wallet.accounts.append(WalletAccount(address=address, label="Main"))
    ctx.settings.wallet.active_account = address
    win = create_window(ctx)
    qtbot.addWidget(win)
    assert win.account_label.text() == "Account: Main (0xf39F…2266)"
