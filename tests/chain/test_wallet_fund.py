"""The Wallet section's "Fund (sandbox)" button: it starts the real Sandbox (anvil) off the
GUI thread and tops up the selected account; it is off when the active chain is not the
Sandbox. Real OS keyring, offscreen Qt."""

from __future__ import annotations

import asyncio

import pytest

from studio.app import create_context, create_window
from studio.core.chain.anvil_binary import find_anvil
from studio.core.chain.profiles import ChainProfiles
from studio.core.chain.rpc import connect
from studio.core.chain.sandbox import shared_sandbox, stop_shared_sandboxes
from tests.chain.mint_support import (  # noqa: F401  (fixture)
    add_local_profile,
    keyring_service,
    make_wallet,
)

pytestmark = pytest.mark.skipif(find_anvil() is None,
                                reason="anvil not installed (npm ci in contracts/)")


async def _balance(url: str, address: str) -> int:
    w3 = connect(url, 10)
    try:
        return int(await w3.eth.get_balance(address))
    finally:
        await w3.provider.disconnect()


def _wallet_page(qtbot, ctx):
    win = create_window(ctx)
    qtbot.addWidget(win)
    win.show()
    win.show_section("wallet")
    page = win.page("wallet")
    qtbot.waitUntil(lambda: not page.runner.busy(), timeout=10_000)
    return win, page


def test_fund_selected_account_on_sandbox(qtbot, paths) -> None:
    me = make_wallet(paths)
    ctx = create_context(paths)
    try:
        _win, page = _wallet_page(qtbot, ctx)
        assert ChainProfiles(ctx.settings).active().id == "sandbox"
        assert page.selected().address == me.address and page.fund_button.isEnabled()
        page.fund_button.click()
        assert not page.fund_button.isEnabled()  # no second click while it runs
        qtbot.waitUntil(lambda: "Funded" in page.status.text()
                        or "failed" in page.status.text(), timeout=60_000)
        assert "balance is 100.0000 ETH" in page.status.text(), page.status.text()
        assert page.fund_button.isEnabled()
        url = shared_sandbox(paths.data_dir).url
        assert asyncio.run(_balance(url, me.address)) == 100 * 10**18
    finally:
        stop_shared_sandboxes()
        ctx.close()


def test_fund_disabled_off_sandbox_and_without_account(qtbot, paths) -> None:
    profile = add_local_profile(paths, "http://127.0.0.1:9/")
    ctx = create_context(paths)
    try:
        _win, page = _wallet_page(qtbot, ctx)
        assert not page.fund_button.isEnabled()  # no account yet
        assert "select an account" in page.fund_button.toolTip()
        make_wallet(paths)
        ctx.settings = ctx.settings_store.load().settings
        ChainProfiles(ctx.settings).use(profile.id)
        page.refresh()
        assert page.selected() is not None and not page.fund_button.isEnabled()
        assert "not the Sandbox" in page.fund_button.toolTip()
        page.fund()  # the shortcut-free slot refuses too: nothing starts
        assert not page.runner.busy() and "Funding" not in page.status.text()
        ChainProfiles(ctx.settings).use("sandbox")
        page.refresh()
        assert page.fund_button.isEnabled()
    finally:
        ctx.close()
