"""The Mint dialog and the Royalties view on a real anvil (offscreen Qt): bad split rows are
flagged in place, the fee estimate and the mint run off the GUI thread, the inspector shows
the token, and the royalties view lists the split."""

from __future__ import annotations

import os

import pytest
from eth_account import Account
from PySide6.QtWidgets import QMessageBox

from studio.app import create_context
from studio.core.chain.anvil_binary import find_anvil
from studio.core.chain.profiles import ChainProfiles
from studio.core.chain.sandbox import fund_account
from studio.ui.mint_dialog import MintDialog
from studio.ui.royalties_view import RoyaltiesView
from tests.chain.mint_support import (  # noqa: F401  (fixture)
    ONE_ETH,
    add_asset,
    add_local_profile,
    keyring_service,
    make_wallet,
)

pytestmark = pytest.mark.skipif(find_anvil() is None,
                                reason="anvil not installed (npm ci in contracts/)")


async def test_mint_dialog_validates_estimates_mints(qtbot, anvil, paths, monkeypatch) -> None:
    me = make_wallet(paths)
    await fund_account(anvil.url, me.address, 10 * ONE_ETH)
    profile = add_local_profile(paths, anvil.url)
    ctx = create_context(paths)
    ChainProfiles(ctx.settings).use(profile.id)
    asset = add_asset(ctx.library, os.urandom(64), "Dialog work")
    dialog = MintDialog(ctx, asset)
    qtbot.addWidget(dialog)
    assert dialog.split.item(0, 0).text() == me.address and dialog.mint_button.isEnabled()

    friend = Account.create().address
    bad_checksum = friend[:2] + friend[2:].swapcase()
    # A new empty row is unfinished, not an error: nothing is flagged until it is typed in.
    dialog.add_row_button.click()
    assert dialog.split.rowCount() == 2 and dialog.problem.text() == ""
    assert not dialog.mint_button.isEnabled()
    assert dialog.split.item(1, 0).background().color().name() != "#f5c6c0"
    dialog.split.setCurrentCell(1, 0)
    dialog.remove_row_button.click()
    assert dialog.split.rowCount() == 1 and dialog.mint_button.isEnabled()

    dialog.add_recipient(bad_checksum, "friend", "30")
    assert dialog.split.item(0, 2).text() == "70"  # your row takes the remainder
    assert "wrong checksum" in dialog.problem.text() and not dialog.mint_button.isEnabled()
    assert dialog.split.item(1, 0).background().color().name() == "#f5c6c0"
    dialog.split.item(1, 0).setText(me.address)  # a duplicate of row 1
    assert "repeats row 1" in dialog.problem.text()
    dialog.split.item(1, 0).setText(friend)
    assert dialog.problem.text() == "" and "100" in dialog.sum_label.text()
    dialog.split.item(1, 2).setText("40")
    assert dialog.split.item(0, 2).text() == "60"
    dialog.split.item(0, 2).setText("70")  # your own share, edited by hand, is not rebalanced
    assert "add up to 110 %" in dialog.problem.text() and "110" in dialog.sum_label.text()
    dialog.split.item(1, 2).setText("30")
    assert dialog.split.item(0, 2).text() == "70"
    dialog.royalty.setValue(12)
    assert "above the usual 10 %" in dialog.problem.text()
    dialog.allow_high.setChecked(True)
    dialog.royalty.setValue(7.5)
    assert dialog.problem.text() == "" and dialog.mint_button.isEnabled()

    with qtbot.waitSignal(dialog.estimated, timeout=60_000):
        dialog.estimate_button.click()
    assert "Fee estimate: at most" in dialog.fee_label.text()
    assert "create the royalty split" in dialog.fee_label.text()

    asked: list[str] = []

    def accept(parent, title, text, *rest, **kw):
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", accept)
    with qtbot.waitSignal(dialog.minted, timeout=120_000) as minted:
        dialog.mint_button.click()
    rec = minted.args[0]
    # The confirmation showed the chain, every transaction and the most they can cost.
    (question,) = asked
    assert "Chain: Local anvil (chain id 31337)" in question
    assert "create the royalty split" in question and "Maximum total fee:" in question
    assert rec.token_id == int(asset.sha256, 16) and rec.royalty_bps == 750
    assert "Minted:" in dialog.log.toPlainText() and "published" in dialog.log.toPlainText()
    assert not dialog.mint_button.isEnabled()  # no second mint from the same dialog
    assert ctx.library.minted_ids() == {asset.id}

    from studio.ui.inspector import _minted_rows

    rows = dict(_minted_rows(ctx, asset))
    assert rows["Token"] == str(rec.token_id) and "chain 31337" in rows["Chain"]
    assert "friend 30 %" in rows["Split"]

    view = RoyaltiesView(ctx)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.job is None and bool(view.splits), timeout=60_000)
    assert view.tree.topLevelItem(0).text(0) == rec.split_address
    assert view.tree.topLevelItem(0).childCount() == 2
    assert not view.release_button.isEnabled()  # nothing is due yet
    ctx.close()
