"""Activity: every transaction the studio signed, with its status, from the activity
view-model (which reloads whenever the app sends or updates a transaction: no Refresh needed
for the app's own work; Refresh stays for changes made outside, e.g. by the CLI).

Speed-up and cancel replace a pending transaction with the same nonce and higher fees: the
view-model quotes the fees, the user confirms them, and the replacement is signed with the
sender's wallet account and sent, all as operations of the app's runner.
"""

from __future__ import annotations

import html
import time
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QDesktopServices, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from studio.core.chain.txstore import TxRecord, TxStatus
from studio.ui.context import AppContext
from studio.ui.dispatch import connect
from studio.viewmodels import ViewModels

COLUMNS = ["#", "When", "Chain", "What", "Status", "Confirmations", "Nonce", "Hash"]
STATUS_TEXT = {
    TxStatus.SIGNED: "Signed, not sent",
    TxStatus.PENDING: "Pending",
    TxStatus.INCLUDED: "Confirming",
    TxStatus.CONFIRMED: "Confirmed",
    TxStatus.REVERTED: "Failed on chain",
    TxStatus.REPLACED: "Replaced",
    TxStatus.FAILED: "Rejected",
}


class TxTableModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[TxRecord] = []
        self.profiles: dict[str, tuple[str, int]] = {}  # id -> (name, confirmations wanted)

    def set_records(self, records: list[TxRecord],
                    profiles: dict[str, tuple[str, int]]) -> None:
        self.beginResetModel()
        self.records = records
        self.profiles = profiles
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.records)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.records[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            name, wanted = self.profiles.get(r.profile, (r.profile, 0))
            return [
                str(r.id),
                time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at)),
                name,
                r.purpose or ("Transfer" if r.data == "0x" else "Contract call"),
                STATUS_TEXT[r.status] + (f" (reorg ×{r.reorgs})" if r.reorgs else ""),
                ("–" if r.block_number is None else
                 f"{r.confirmations} of {wanted}" if r.confirmations < wanted
                 else str(r.confirmations)),
                str(r.nonce),
                f"{r.hash[:10]}…{r.hash[-6:]}",
            ][index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return r.error or r.hash
        return None


def _gwei(wei: int) -> str:
    return f"{wei / 1e9:.4f}".rstrip("0").rstrip(".")


class ActivitySection(QWidget):
    loaded = Signal()  # after each reload (tests wait for it)
    replaced = Signal(object)  # the replacement's TxRecord
    replace_failed = Signal(str)

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.vm = ViewModels.of(ctx).activity

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 32, 32, 32)
        heading = QLabel("Activity")
        heading.setObjectName("sectionHeading")
        layout.addWidget(heading)

        self.model = TxTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.empty = QLabel("No transactions yet. When you mint a work, each transaction it "
                            "sends is recorded here with its status and confirmations.")
        self.empty.setObjectName("placeholderText")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)
        layout.addWidget(self.stack, 1)

        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.details)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)

        buttons = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Reload the list (F5)")
        self.refresh_button.clicked.connect(self.reload)
        self.copy_button = QPushButton("Copy hash")
        self.copy_button.setToolTip("Copy the selected transaction's hash (Ctrl+Shift+C)")
        self.copy_button.clicked.connect(self._copy_hash)
        self.explorer_button = QPushButton("Open in explorer")
        self.explorer_button.setToolTip("Show the transaction on its chain's block explorer")
        self.explorer_button.clicked.connect(self._open_explorer)
        self.royalties_button = QPushButton("Royalties…")
        self.royalties_button.setToolTip("Each royalty split's balance; release payments")
        self.royalties_button.clicked.connect(self.open_royalties)
        self.speed_up_button = QPushButton("&Speed up…")
        self.speed_up_button.clicked.connect(lambda: self.start_replacement(cancel=False))
        self.cancel_tx_button = QPushButton("Ca&ncel transaction…")
        self.cancel_tx_button.clicked.connect(lambda: self.start_replacement(cancel=True))
        self._busy = False  # a replacement is being quoted or sent
        for b in (self.refresh_button, self.copy_button, self.explorer_button,
                  self.speed_up_button, self.cancel_tx_button, self.royalties_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self, self.reload)
        QShortcut(QKeySequence("Ctrl+Shift+C"), self, self._copy_hash)

        self._selection_changed()
        connect(self.vm.changed, self._on_loaded, self)
        connect(self.vm.failed, self._on_failed, self)
        if self.vm.loaded:
            self._on_loaded()
        self.reload()

    # -- loading ------------------------------------------------------------------------------

    def reload(self) -> None:
        self.refresh_button.setEnabled(False)
        self.vm.reload()

    def _on_loaded(self) -> None:
        selected = self.selected()
        records = self.vm.records
        self.model.set_records(records, self.vm.profiles())
        self.stack.setCurrentWidget(self.table if records else self.empty)
        if selected is not None:
            for row, r in enumerate(records):
                if r.id == selected.id:
                    self.table.selectRow(row)
        self.refresh_button.setEnabled(True)
        self._selection_changed()
        self.loaded.emit()

    def _on_failed(self, message: str) -> None:
        self.refresh_button.setEnabled(True)
        self.details.setText(f"The transaction list could not be read: {message}")
        self.loaded.emit()

    # -- selection ----------------------------------------------------------------------------

    def selected(self) -> TxRecord | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.records[rows[0].row()] if rows else None

    def _explorer_url(self, rec: TxRecord) -> str | None:
        from studio.core.chain.profiles import ProfileError
        from studio.core.chain.txmanager import explorer_tx_url

        try:
            profile = self.ctx.profiles.get(rec.profile)
        except ProfileError:
            return None
        return explorer_tx_url(profile, rec.hash)

    def _selection_changed(self, *_: object) -> None:
        rec = self.selected()
        self.copy_button.setEnabled(rec is not None)
        self.explorer_button.setEnabled(rec is not None and self._explorer_url(rec) is not None)
        self._update_replace_buttons(rec)
        if rec is None:
            self.details.setText("")
            return
        lines = [f"<b>#{rec.id}</b> {STATUS_TEXT[rec.status]} — <code>{rec.hash}</code>",
                 f"From {rec.from_addr} to {rec.to_addr or '(contract creation)'}, "
                 f"nonce {rec.nonce}, chain {rec.chain_id}"
                 + (f" — {html.escape(rec.purpose)}" if rec.purpose else "")]
        if rec.block_number is not None:
            lines.append(f"Block {rec.block_number}, {rec.confirmations} confirmation(s)")
        if rec.error:
            lines.append(f"<span style='color:#c0392b'>{html.escape(rec.error)}</span>")
        self.details.setText("<br>".join(lines))

    # -- speed up / cancel ---------------------------------------------------------------------

    def _replace_problem(self, rec: TxRecord | None) -> str | None:
        from studio.core.chain.replace import replaceable_problem

        if rec is None:
            return "Select a pending transaction"
        if self._busy:
            return "A replacement is in progress"
        return replaceable_problem(rec, self.vm.my_addresses())

    def _update_replace_buttons(self, rec: TxRecord | None) -> None:
        problem = self._replace_problem(rec)
        tips = {self.speed_up_button: "Send it again with the same nonce and fees raised by "
                                      "at least 12.5 %, so it is mined sooner",
                self.cancel_tx_button: "Replace it with a transfer of 0 ETH to yourself at "
                                       "higher fees, so it is never carried out"}
        for button, tip in tips.items():
            button.setEnabled(problem is None)
            button.setToolTip(tip if problem is None else f"Not available: {problem}")

    def start_replacement(self, *, cancel: bool) -> None:
        """Quote the fees off the GUI thread, then ask for confirmation."""
        rec = self.selected()
        if self._replace_problem(rec) is not None:
            return
        self._set_busy(True, "Checking the transaction and current fees…")
        (self.vm.quote(rec.id, cancel=cancel)
         .success(self._confirm_replacement).failure(self._replacement_failed).start())

    def _confirm_replacement(self, quote) -> None:
        what = "Cancel" if quote.cancel else "Speed up"
        body = [f"{what} transaction #{quote.tx_id} by sending a replacement with the same "
                "nonce.",
                f"New max fee: {_gwei(quote.max_fee)} gwei per gas (tip "
                f"{_gwei(quote.max_priority_fee)} gwei); at most "
                f"{quote.max_cost / 1e18:.6f} ETH in fees for {quote.gas:,} gas."]
        if quote.cancel:
            body.append("The replacement sends 0 ETH to yourself; if it is mined first, the "
                        "original transaction is never carried out.")
        body.append("If the original is mined first, the replacement fails and costs nothing.")
        answer = QMessageBox.question(
            self, f"{what} transaction?", "\n\n".join(body),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            self._set_busy(False, "Nothing was sent.")
            return
        self._set_busy(True, "Signing and sending the replacement…")
        self.vm.send(quote).success(self._replacement_sent).failure(
            self._replacement_failed).start()

    def _replacement_sent(self, new: TxRecord) -> None:
        self._set_busy(False, f"Sent replacement #{new.id} ({new.hash}).")
        self.replaced.emit(new)  # the view-model reloads on the app's transaction event

    def _replacement_failed(self, exc: Exception) -> None:
        message = str(exc) or type(exc).__name__
        self._set_busy(False, "")
        QMessageBox.warning(self, "Replacement not sent", message)
        self.replace_failed.emit(message)
        self.reload()

    def _set_busy(self, busy: bool, message: str) -> None:
        self._busy = busy
        self.status.setText(message)
        self._update_replace_buttons(self.selected())

    def open_royalties(self):
        from studio.ui.royalties_view import RoyaltiesView

        view = RoyaltiesView(self.ctx, self)
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.show()
        return view

    def _copy_hash(self) -> None:
        rec = self.selected()
        if rec is not None:
            QGuiApplication.clipboard().setText(rec.hash)

    def _open_explorer(self) -> None:
        rec = self.selected()
        url = self._explorer_url(rec) if rec else None
        if url:
            QDesktopServices.openUrl(QUrl(url))


def build(ctx: AppContext) -> QWidget:
    return ActivitySection(ctx)
