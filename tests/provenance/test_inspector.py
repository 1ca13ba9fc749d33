"""The inspector panel (pytest-qt): badge, signer, off-thread reading, Attest button."""

from __future__ import annotations

import subprocess
import sys

from studio.core.library.models import AssetOrigin
from tests.provenance.conftest import REQUEST, image_bytes


def _panel(qtbot, paths):
    from studio.app import create_context
    from studio.ui.inspector import InspectorPanel

    ctx = create_context(paths)
    panel = InspectorPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    return ctx, panel


def test_signed_file_shows_badge_and_signer(qtbot, paths, sign):
    ctx, panel = _panel(qtbot, paths)
    asset, _ = ctx.library.add_bytes(sign(image_bytes("PNG"), REQUEST, 1), suffix=".png",
                                     origin=AssetOrigin.GENERATED, media_type="image/png",
                                     title="Lighthouse")
    with qtbot.waitSignal(panel.report_ready, timeout=20000) as got:
        panel.show_asset(asset)
    assert got.args[0].state.value == "valid"
    assert panel.badge.text() == "AI-generated" and panel.badge.isVisible()
    texts = [panel.summary.itemAt(i).widget().text() for i in range(panel.summary.count())
             if panel.summary.itemAt(i).widget()]
    assert "Ada Lovelace" in texts
    assert any(t.startswith("✔ 0x") and "vouches" in t for t in texts)  # binding matches
    assert panel.heading.text() == "Lighthouse"
    assert not panel.attest_button.isVisible()  # only imported files are attested
    tops = [panel.details.topLevelItem(i).text(0)
            for i in range(panel.details.topLevelItemCount())]
    assert {"Actions", "Generation", "Wallet binding"} <= set(tops)
    ctx.close()


def test_imported_file_offers_attest_and_none_clears(qtbot, paths, shared_media):
    ctx, panel = _panel(qtbot, paths)
    asset, _ = ctx.library.add_file(shared_media / "A.jpg", origin=AssetOrigin.IMPORTED,
                                    media_type="image/jpeg")
    with qtbot.waitSignal(panel.report_ready, timeout=20000):
        panel.show_asset(asset)
    assert panel.badge.text() == "No credentials"
    assert panel.attest_button.isVisible() and panel.attest_button.isEnabled()
    panel.show_asset(None)
    assert panel.heading.text() == "Nothing selected" and not panel.badge.isVisible()
    ctx.close()


def test_stale_result_is_dropped(qtbot, paths, shared_media):
    ctx, panel = _panel(qtbot, paths)
    first, _ = ctx.library.add_file(shared_media / "C.jpg", origin=AssetOrigin.IMPORTED,
                                    media_type="image/jpeg")
    second, _ = ctx.library.add_file(shared_media / "A.jpg", origin=AssetOrigin.IMPORTED,
                                     media_type="image/jpeg")
    panel.show_asset(first)
    with qtbot.waitSignal(panel.report_ready, timeout=20000) as got:
        panel.show_asset(second)
    assert got.args[0].state.value == "none"
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone(20000)  # the first read finishes too...
    qtbot.wait(50)  # ...and its queued result is delivered, and must be dropped
    assert panel.report.state.value == "none" and panel.asset == second
    ctx.close()


def test_inspector_import_stays_light():
    code = ("import sys, studio.ui.inspector; "
            "heavy = [m for m in ('c2pa', 'cryptography', 'eth_account', 'web3', 'torch') "
            "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})
    assert out.returncode == 0, out.stdout + out.stderr


def test_attest_button_makes_attested_asset(qtbot, paths, shared_media, monkeypatch, account):
    from PySide6.QtWidgets import QMessageBox

    from studio.core.wallet.service import WalletService
    from tests.provenance.conftest import _require_keyring

    _require_keyring()
    ctx, panel = _panel(qtbot, paths)
    ctx.settings.provenance.creator_name = "Ada Lovelace"
    # The active wallet, stored in the real keyring, is what Attest… binds to.
    wallet = WalletService(ctx.settings_store, lambda: ctx.settings)
    wallet.import_private_key(account.key.hex(), "Main")
    wallet.set_active(account.address)
    # The confirmation dialog is modal; answer it as the user would.
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    asset, _ = ctx.library.add_file(shared_media / "A.jpg", origin=AssetOrigin.IMPORTED,
                                    media_type="image/jpeg")
    with qtbot.waitSignal(panel.report_ready, timeout=20000):
        panel.show_asset(asset)
    with qtbot.waitSignal(panel.attested, timeout=30000) as got:
        panel.attest_button.click()
    new = got.args[0]
    assert new.origin is AssetOrigin.ATTESTED
    qtbot.waitUntil(lambda: panel.report is not None and panel.asset == new, timeout=20000)
    assert panel.report.attestation["matches"] is True
    assert panel.report.attestation["address"] == account.address
    assert ctx.library.get(asset.id) == asset  # the original is kept
    ctx.close()


def test_trust_this_signer_from_the_inspector(qtbot, paths, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    from studio.core.settings import SettingsStore
    from tests.provenance.pki import CA, sign_with
    from tests.provenance.test_trust_defects import _manifest

    ca = CA.make("Stranger CA")
    key, cert = ca.issue("Bob the Photographer")
    ctx, panel = _panel(qtbot, paths)
    asset, _ = ctx.library.add_bytes(sign_with(image_bytes("PNG"), _manifest(), key, cert, ca),
                                     suffix=".png", origin=AssetOrigin.IMPORTED,
                                     media_type="image/png")
    with qtbot.waitSignal(panel.report_ready, timeout=20000):
        panel.show_asset(asset)
    assert panel.state_label.text() == "Valid (signer not on your trust list)"
    assert panel.trust_button.isVisible()
    asked: list[str] = []

    def answer(parent, title, text, *a, **k):
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    with qtbot.waitSignal(panel.report_ready, timeout=20000) as got:
        panel.trust_button.click()
    assert got.args[0].state.value == "trusted"
    assert "signer you chose to trust" in panel.state_label.text()
    assert "CN=Bob the Photographer" in asked[0] and "exact certificate" in asked[0]
    saved = SettingsStore(paths.settings_file).load().settings
    assert len(saved.provenance.trusted_signers) == 1
    assert not panel.trust_button.isVisible()
    ctx.close()


def test_remote_credentials_are_not_fetched_until_asked(qtbot, paths, tmp_path):
    from tests.provenance.pki import CountingServer
    from tests.provenance.test_trust_defects import _remote_file

    server = CountingServer()
    try:
        url = server.base + "/m.c2pa"
        path, server.body = _remote_file(tmp_path, url)
        ctx, panel = _panel(qtbot, paths)
        asset, _ = ctx.library.add_file(path, origin=AssetOrigin.IMPORTED,
                                        media_type="image/jpeg")
        with qtbot.waitSignal(panel.report_ready, timeout=20000):
            panel.show_asset(asset)
        assert panel.badge.text() == "Credentials not checked"
        assert f"stored remotely at {url}; not fetched" in panel.state_label.text()
        assert panel.fetch_button.isVisible() and server.counter.requests == []
        with qtbot.waitSignal(panel.report_ready, timeout=20000) as got:
            panel.fetch_button.click()
        assert got.args[0].state.value == "valid"
        assert server.counter.requests == ["/m.c2pa"]
        ctx.close()
    finally:
        server.close()

