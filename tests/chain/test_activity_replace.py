"""Speed up and cancel from the Activity section, against a real anvil with automine off (so
the transaction stays pending), a real wallet in the real OS keyring, offscreen Qt. The
confirmation dialog is answered by the test."""

from __future__ import annotations

import pytest
from eth_account import Account
from PySide6.QtWidgets import QMessageBox

from studio.app import create_context, create_window
from studio.core.chain.anvil_binary import find_anvil
from studio.core.chain.profiles import ChainProfiles
from studio.core.chain.sandbox import fund_account
from studio.core.chain.txmanager import TransactionManager
from studio.core.chain.txstore import TxStatus, TxStore
from tests.chain.mint_support import (  # noqa: F401  (fixture)
    ONE_ETH,
    add_local_profile,
    keyring_service,
    make_wallet,
    rpc,
)

pytestmark = pytest.mark.skipif(find_anvil() is None,
                                reason="anvil not installed (npm ci in contracts/)")


@pytest.fixture
async def no_automine(anvil):
    """Transactions stay pending until the test mines; automine is restored afterwards
    (the anvil is shared by the module)."""
    from studio.core.chain.rpc import connect

    w3 = connect(anvil.url, 10)
    await rpc(w3, "evm_setAutomine", False)
    yield w3
    await rpc(w3, "evm_setAutomine", True)
    await w3.provider.disconnect()


def answer(monkeypatch, button) -> list[str]:
    """Auto-answer QMessageBox.question with ``button``; returns the texts it was shown."""
    shown: list[str] = []

    def question(parent, title, text, *a, **k):
        shown.append(text)
        return button

    monkeypatch.setattr(QMessageBox, "question", question)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    return shown


async def pending_send(ctx, profile, account, value: int):
    async with TransactionManager(ctx.library, profile, profile.rpc_url) as tm:
        return await tm.send(account, to=Account.create().address, value=value,
                             purpose="slow payment")


def settle(qtbot, page) -> None:
    """Wait for the reload the section starts after a replacement."""
    qtbot.waitUntil(page.refresh_button.isEnabled, timeout=10_000)


def open_activity(qtbot, ctx, tx_id: int):
    win = create_window(ctx)
    qtbot.addWidget(win)
    win.show()
    page = win.page("activity")
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        win.show_section("activity")
    row = next(i for i, r in enumerate(page.model.records) if r.id == tx_id)
    page.table.selectRow(row)
    return page


async def test_speed_up_and_cancel_pending_transactions(qtbot, anvil, no_automine, paths,
                                                        monkeypatch) -> None:
    me = make_wallet(paths)
    await fund_account(anvil.url, me.address, 10 * ONE_ETH)
    profile = add_local_profile(paths, anvil.url)
    ctx = create_context(paths)
    ChainProfiles(ctx.settings).use(profile.id)
    slow = await pending_send(ctx, profile, me, 5)
    assert slow.status == TxStatus.PENDING

    page = open_activity(qtbot, ctx, slow.id)
    assert page.speed_up_button.isEnabled() and page.cancel_tx_button.isEnabled()

    # Declining the confirmation sends nothing.
    shown = answer(monkeypatch, QMessageBox.StandardButton.Cancel)
    page.speed_up_button.click()
    qtbot.waitUntil(lambda: bool(shown), timeout=30_000)
    assert "New max fee:" in shown[0] and "gwei" in shown[0]
    qtbot.waitUntil(lambda: page.speed_up_button.isEnabled(), timeout=5_000)
    assert len(TxStore(ctx.library).list()) == 1

    shown = answer(monkeypatch, QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(page.replaced, timeout=60_000) as sent:
        page.speed_up_button.click()
    fast = sent.args[0]
    settle(qtbot, page)
    assert fast.replaces == slow.id and fast.nonce == slow.nonce and fast.value == 5
    assert fast.max_fee * 8 >= slow.max_fee * 9
    assert fast.max_priority_fee * 8 >= slow.max_priority_fee * 9
    assert f"{fast.max_fee / 1e9:.4f}".rstrip("0").rstrip(".") + " gwei" in shown[0]
    assert fast.from_addr == me.address  # signed by the wallet's account

    await rpc(no_automine, "evm_mine")
    async with TransactionManager(ctx.library, profile, anvil.url) as tm:
        assert (await tm.refresh(fast.id)).status == TxStatus.CONFIRMED
        assert (await tm.refresh(slow.id)).status == TxStatus.REPLACED

    # Cancel: a 0 ETH self-transfer with the same nonce; the payment never happens.
    doomed = await pending_send(ctx, profile, me, ONE_ETH)
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.reload()
    page.table.selectRow(next(i for i, r in enumerate(page.model.records) if r.id == doomed.id))
    assert page.cancel_tx_button.isEnabled()
    with qtbot.waitSignal(page.replaced, timeout=60_000) as sent:
        page.cancel_tx_button.click()
    stop = sent.args[0]
    settle(qtbot, page)
    assert "sends 0 ETH to yourself" in shown[-1] and "New max fee:" in shown[-1]
    assert (stop.to_addr, stop.value, stop.nonce) == (me.address, 0, doomed.nonce)
    assert stop.max_fee * 8 >= doomed.max_fee * 9
    await rpc(no_automine, "evm_mine")
    async with TransactionManager(ctx.library, profile, anvil.url) as tm:
        assert (await tm.refresh(stop.id)).status == TxStatus.CONFIRMED
        assert (await tm.refresh(doomed.id)).status == TxStatus.REPLACED
        assert await tm.w3.eth.get_balance(doomed.to_addr) == 0

    # A mined transaction can no longer be replaced: the buttons say why.
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.reload()
    page.table.selectRow(next(i for i, r in enumerate(page.model.records) if r.id == stop.id))
    assert not page.speed_up_button.isEnabled() and not page.cancel_tx_button.isEnabled()
    assert "not mined yet" in page.speed_up_button.toolTip()
    ctx.close()


async def test_replace_disabled_for_foreign_sender_and_errors_reported(
        qtbot, anvil, no_automine, paths, monkeypatch) -> None:
    make_wallet(paths)
    stranger = Account.create()
    await fund_account(anvil.url, stranger.address, ONE_ETH)
    profile = add_local_profile(paths, anvil.url)
    ctx = create_context(paths)
    theirs = await pending_send(ctx, profile, stranger, 1)
    page = open_activity(qtbot, ctx, theirs.id)
    assert not page.speed_up_button.isEnabled() and not page.cancel_tx_button.isEnabled()
    assert "not an account in this wallet" in page.cancel_tx_button.toolTip()

    # A wallet account whose pending transaction got mined behind the section's back: the
    # quote fails with a clear message and nothing is signed.
    me = make_wallet(paths, "second")
    ctx.settings = ctx.settings_store.load().settings
    await fund_account(anvil.url, me.address, ONE_ETH)
    mine = await pending_send(ctx, profile, me, 2)
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.reload()
    page.table.selectRow(next(i for i, r in enumerate(page.model.records) if r.id == mine.id))
    assert page.speed_up_button.isEnabled()
    await rpc(no_automine, "evm_mine")
    shown = answer(monkeypatch, QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(page.replace_failed, timeout=60_000) as failed:
        page.speed_up_button.click()
    assert "only a transaction that is not mined" in failed.args[0]
    settle(qtbot, page)
    assert shown == [failed.args[0]]  # the user saw the error, never a confirmation
    assert all(r.replaces is None for r in TxStore(ctx.library).list())
    ctx.close()
