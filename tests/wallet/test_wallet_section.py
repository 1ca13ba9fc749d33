"""The Wallet section with pytest-qt, against the real OS keyring."""

from __future__ import annotations

import json

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt

from studio.app import create_context, create_window
from studio.ui.sections.wallet_section import COL_ADDRESS, COL_BALANCE, COL_LABEL

from .helpers import ANVIL


def _open(qtbot, paths):
    ctx = create_context(paths)
    win = create_window(ctx)
    qtbot.addWidget(win)
    win.show()
    win.show_section("wallet")
    page = win.page("wallet")
    qtbot.waitUntil(lambda: not page.runner.busy(), timeout=10_000)
    return ctx, win, page


@pytest.fixture
def wallet(qtbot, paths, real_keyring):
    ctx, win, page = _open(qtbot, paths)
    yield win, page
    ctx.close()


def _rows(page) -> list[tuple[str, str]]:
    t = page.table
    return [(t.item(r, COL_LABEL).text(), t.item(r, COL_ADDRESS).text())
            for r in range(t.rowCount())]


def _ok(qtbot, dialog) -> None:
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def test_import_key_through_dialog(wallet, qtbot, keyring_service) -> None:
    win, page = wallet
    assert page.empty.isVisible() and not page.export_button.isEnabled()
    dialog = page.import_key()
    dialog.key.setText("0x1234")
    _ok(qtbot, dialog)
    qtbot.waitUntil(lambda: "this one has 4 digits" in dialog.error.text(), timeout=10_000)
    assert dialog.isVisible() and page.table.rowCount() == 0

    dialog.key.setText(ANVIL[0][1])
    dialog.label.setText("GUI key")
    _ok(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert _rows(page) == [("GUI key", ANVIL[0][0])]
    assert page.table.item(0, COL_BALANCE).text() == "balance: connect a chain"
    assert keyring.get_password(keyring_service, ANVIL[0][0]) is not None
    assert win.account_label.text() == "Account: GUI key (0xf39F…2266)"
    assert "Imported GUI key" in page.status.text()
    assert dialog.key.text() == ""  # the secret does not linger in the widget
    page.copy_address()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == ANVIL[0][0]


def test_bad_mnemonic_word_shows_its_position(wallet, qtbot) -> None:
    _, page = wallet
    dialog = page.import_mnemonic()
    dialog.phrase.setPlainText("test test test test test tesst test test test test test junk")
    _ok(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=10_000)
    assert 'Word #6 "tesst" is not in the BIP-39 English word list' in dialog.error.text()
    dialog.phrase.setPlainText("test test test test test test test test test test test junk")
    dialog.count.setValue(2)
    _ok(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert [a for _, a in _rows(page)] == [ANVIL[0][0], ANVIL[1][0]]


def test_create_mnemonic_asks_for_words_back(wallet, qtbot) -> None:
    _, page = wallet
    dialog = page.create_mnemonic()
    qtbot.waitUntil(lambda: len(dialog.word_labels) == 12, timeout=10_000)
    assert not dialog.ok_button.isEnabled()  # not before "I have written them down"
    words = list(dialog._words)
    dialog.written.setChecked(True)
    _ok(qtbot, dialog)
    assert dialog.pages.currentIndex() == 1 and len(dialog.confirm_edits) == 3
    for edit in dialog.confirm_edits:
        edit.setText("wrong")
    _ok(qtbot, dialog)
    assert f"Word #{dialog.positions[0] + 1} does not match" in dialog.error.text()
    assert page.table.rowCount() == 0
    for n, edit in zip(dialog.positions, dialog.confirm_edits, strict=True):
        edit.setText(words[n].upper())
    _ok(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    assert _rows(page)[0][1] == Account.from_mnemonic(" ".join(words)).address
    assert dialog._words == []  # forgotten once the dialog closes


def test_export_then_remove_with_confirmation(wallet, qtbot, tmp_path, keyring_service,
                                              monkeypatch) -> None:
    _, page = wallet
    page.service.import_private_key(ANVIL[1][1], "to remove")
    page.refresh()
    dialog = page.export()
    dialog.password.setText("a good password")
    dialog.repeat.setText("another password")
    dialog.path.setText(str(tmp_path / "backup.json"))
    _ok(qtbot, dialog)
    assert dialog.error.text() == "The two passwords do not match."
    dialog.repeat.setText("a good password")
    _ok(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=20_000)
    assert json.loads((tmp_path / "backup.json").read_text())["version"] == 3

    monkeypatch.setattr(page, "confirm_remove", lambda account: "cancel")
    page.remove()
    assert page.table.rowCount() == 1
    monkeypatch.setattr(page, "confirm_remove", lambda account: "remove")
    page.remove()
    qtbot.waitUntil(lambda: page.table.rowCount() == 0, timeout=10_000)
    assert keyring.get_password(keyring_service, ANVIL[1][0]) is None
    assert page.window().account_label.text() == "Account: none"


def test_no_keyring_shows_how_to_fix_and_disables_secret_actions(qtbot, paths) -> None:
    keyring.set_keyring(fail.Keyring())
    ctx, _, page = _open(qtbot, paths)
    try:
        qtbot.waitUntil(lambda: page.banner.isVisible(), timeout=10_000)
        assert "No usable OS keyring" in page.banner.text()
        assert not page.create_button.isEnabled() and not page.import_button.isEnabled()
        assert not page.act_new_key.isEnabled()
        assert not paths.settings_file.exists() or "0x" not in paths.settings_file.read_text()
    finally:
        ctx.close()
