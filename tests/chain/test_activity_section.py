"""The Activity section lists persisted transactions (real SQLite, offscreen Qt)."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication

from studio.app import create_context, create_window
from studio.core.chain.profiles import ChainProfiles
from studio.core.chain.txstore import TxStatus, TxStore


def record(store: TxStore, n: int, profile: str, status: TxStatus, **extra):
    return store.insert(profile=profile, chain_id=31337, from_addr="0xabc", to_addr="0xdef",
                        nonce=n, value=1, data="0x", gas=21000, max_fee=2, max_priority_fee=1,
                        hash=f"0x{n:064x}", raw="0x02", status=str(status), **extra)


def test_activity_lists_transactions_with_status(qtbot, paths) -> None:
    ctx = create_context(paths)
    sepolia = ChainProfiles(ctx.settings).add_preset("sepolia", "https://rpc.sepolia.example")
    store = TxStore(ctx.library)
    record(store, 1, "sandbox", TxStatus.CONFIRMED, block_number=5, confirmations=3)
    record(store, 3, "gone", TxStatus.INCLUDED, block_number=6, confirmations=1,
           created_at=0.5)  # a profile since removed still lists
    record(store, 2, sepolia.id, TxStatus.SIGNED, purpose="mint <Dawn>",
           error="Cannot reach the RPC endpoint https://rpc.sepolia.example/: refused")
    win = create_window(ctx)
    qtbot.addWidget(win)
    win.show()
    page = win.page("activity")
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        win.show_section("activity")
    assert page.model.rowCount() == 3 and page.stack.currentWidget() is page.table
    assert not page.copy_button.isEnabled() and not page.explorer_button.isEnabled()

    page.table.selectRow(0)  # newest first: the sepolia one
    assert page.model.data(page.model.index(0, 4)) == "Signed, not sent"
    assert page.model.data(page.model.index(0, 2)) == "Sepolia"
    assert page.explorer_button.isEnabled() and "Cannot reach" in page.details.text()
    assert "mint &lt;Dawn&gt;" in page.details.text()  # escaped, not rendered as markup
    page.copy_button.click()
    assert QGuiApplication.clipboard().text() == f"0x{2:064x}"

    page.table.selectRow(1)  # the sandbox has no explorer
    assert not page.explorer_button.isEnabled()
    assert page.model.data(page.model.index(1, 5)) == "3"
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.refresh_button.click()
    assert page.selected().id == 1  # the selection survives a reload
    ctx.close()


def test_activity_empty_state(qtbot, paths) -> None:
    ctx = create_context(paths)
    win = create_window(ctx)
    qtbot.addWidget(win)
    page = win.page("activity")
    qtbot.waitUntil(lambda: page.refresh_button.isEnabled(), timeout=10_000)
    assert page.stack.currentWidget() is page.empty
    assert "No transactions yet" in page.empty.text()
    ctx.close()
