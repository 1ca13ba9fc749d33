"""The app stays live without any Refresh (real Sandbox anvil, real OS keyring, offscreen Qt):
fund -> the Wallet shows the balance; mint -> Activity lists the transactions and the Library
shows the Minted badge; switch chain in Settings -> the status bar says so. No reload or
refresh method of any view is called: every update comes from the app's change events."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from studio.app import create_context, create_window
from studio.core.chain.anvil_binary import find_anvil
from studio.ui.gallery.model import MintedRole
from studio.ui.sections.wallet_section import COL_ADDRESS, COL_BALANCE
from tests.chain.mint_support import (  # noqa: F401  (fixture)
    add_asset,
    keyring_service,
    make_wallet,
)

pytestmark = pytest.mark.skipif(find_anvil() is None,
                                reason="anvil not installed (npm ci in contracts/)")


def _balance_cell(page, address: str) -> str:
    for row in range(page.table.rowCount()):
        if page.table.item(row, COL_ADDRESS).text() == address:
            return page.table.item(row, COL_BALANCE).text()
    return ""


def test_fund_mint_switch_without_refresh(qtbot, paths, monkeypatch) -> None:
    me = make_wallet(paths)
    ctx = create_context(paths)
    asset = add_asset(ctx.library, os.urandom(64), "Live work")
    win = create_window(ctx)
    qtbot.addWidget(win)
    win.show()
    try:
        assert win.chain_label.text() == "Chain: Sandbox (not started)"
        for key in ("library", "activity", "settings", "wallet"):
            win.show_section(key)  # every view exists before anything happens
        activity, library = win.page("activity"), win.page("library")
        qtbot.waitUntil(lambda: activity.vm.loaded, timeout=10_000)
        assert activity.model.rowCount() == 0

        # Fund: the balance column and the status bar follow.
        wallet = win.page("wallet")
        assert _balance_cell(wallet, me.address) == "balance: connect a chain"
        qtbot.waitUntil(lambda: wallet.fund_button.isEnabled(), timeout=10_000)
        wallet.fund_button.click()
        qtbot.waitUntil(lambda: _balance_cell(wallet, me.address) == "100.0000 ETH",
                        timeout=60_000)
        qtbot.waitUntil(lambda: win.chain_label.text() == "Chain: Sandbox (running)",
                        timeout=5_000)

        # Mint from the Library's gallery: Activity and the gallery badge follow.
        win.show_section("library")
        assert library.select_asset(asset.id)
        row = library.model.row_of(asset.id)
        assert not library.model.index(row).data(MintedRole)
        monkeypatch.setattr(QMessageBox, "question",
                            lambda *a, **k: QMessageBox.StandardButton.Yes)
        dialog = library.view.open_mint_dialog()
        with qtbot.waitSignal(dialog.minted, timeout=120_000) as minted:
            dialog.mint_button.click()
        assert minted.args[0].asset_id == asset.id
        qtbot.waitUntil(lambda: activity.model.rowCount() >= 2, timeout=10_000)
        purposes = " ".join(r.purpose for r in activity.model.records)
        assert "mint" in purposes.lower(), purposes
        qtbot.waitUntil(lambda: bool(library.model.index(library.model.row_of(asset.id))
                                     .data(MintedRole)), timeout=10_000)
        # Gas was paid: the balance column shows the new balance without a refresh.
        qtbot.waitUntil(lambda: _balance_cell(wallet, me.address) not in
                        ("100.0000 ETH", "balance: connect a chain"), timeout=10_000)
        dialog.close()

        # Switch chain in Settings -> Chains: the status bar says so.
        win.show_section("settings")
        chains = win.page("settings").chains
        url = ctx.sandbox().url
        chains.add({"name": "Local anvil", "rpc_url": url, "chain_id": 31337,
                    "confirmations": 1})
        def ids() -> list[str]:
            return [chains.list.item(i).data(Qt.ItemDataRole.UserRole)
                    for i in range(chains.list.count())]

        qtbot.waitUntil(lambda: "local-anvil" in ids(), timeout=5_000)  # the event, no reload
        assert "Added Local anvil" in chains.status.text()
        chains.list.setCurrentRow(ids().index("local-anvil"))
        chains.use_button.click()
        qtbot.waitUntil(lambda: win.chain_label.text() == "Chain: Local anvil (chain 31337)",
                        timeout=5_000)
        assert ctx.settings_store.load().settings.chain.active_profile == "local-anvil"
        # The wallet's fund button knows the active chain is no longer the Sandbox.
        assert not wallet.fund_button.isEnabled()
        chains.list.setCurrentRow(ids().index("sandbox"))
        chains.use_button.click()
        qtbot.waitUntil(lambda: win.chain_label.text() == "Chain: Sandbox (running)",
                        timeout=5_000)
    finally:
        win.close()
        ctx.stop_sandbox()
