"""Royalties: each split's balance and what each recipient is due, with a Release action.

Reads and sends are async operations of the app's runner over a chain session.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.services.runner import Operation
from studio.ui.context import AppContext


def _eth(wei: int) -> str:
    return f"{wei / 1e18:.6f}"


class RoyaltiesView(QDialog):
    loaded = Signal()  # after each load or release (tests wait for it)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job: Operation | None = None
        self.splits: list = []
        self.setWindowTitle("Royalties")
        self.resize(760, 420)
        self.profiles = ctx.profiles
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.chain = QComboBox()
        for p in self.profiles.all():
            self.chain.addItem(f"{p.name} (chain {p.chain_id})", p.id)
        self.chain.setCurrentIndex(max(0, self.chain.findData(self.profiles.active().id)))
        self.chain.currentIndexChanged.connect(self.reload)
        top.addWidget(QLabel("Chain"))
        top.addWidget(self.chain, 1)
        layout.addLayout(top)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Split / recipient", "Label", "Share", "Due (ETH)",
                                   "Paid (ETH)"])
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.tree, 1)
        self.status = QLabel("Loading…")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.reload)
        self.release_button = QPushButton("&Release due payments…")
        self.release_button.setToolTip("Pay every recipient of the selected split what is due")
        self.release_button.clicked.connect(self.confirm_release)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.release_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self, self.reload)
        self.reload()

    def profile(self):
        return self.profiles.get(self.chain.currentData())

    def _run(self, fn, on_done, label: str) -> None:
        """Run ``fn(session)`` on a chain session of the chosen profile."""
        profile = self.profile()

        async def main():
            async with self.ctx.chain_session(profile) as session:
                return await fn(session)

        self.job = self.ctx.runner.run_async(main, label=label)
        self._update_buttons()
        self.job.success(on_done).failure(self._failed).start()

    def reload(self) -> None:
        if self.job is not None:
            return
        from studio.core.chain.royalties import list_splits

        self.status.setText("Reading balances…")

        async def go(session):
            return await list_splits(session.tm, self.ctx.library)

        self._run(go, self._loaded, "Reading royalty balances")

    def _loaded(self, splits) -> None:
        self.job = None
        self.splits = splits
        self.tree.clear()
        for s in splits:
            top = QTreeWidgetItem([s.address, "", "", _eth(s.releasable),
                                   f"balance {_eth(s.balance)}"])
            top.setData(0, Qt.ItemDataRole.UserRole, s.address)
            for share in s.shares:
                QTreeWidgetItem(top, [share.address, share.label, f"{share.percent} %",
                                      _eth(share.releasable), _eth(share.released)])
            self.tree.addTopLevelItem(top)
            top.setExpanded(True)
        self.tree.resizeColumnToContents(0)
        self.status.setText(f"{len(splits)} split(s) on {self.profile().name}." if splits
                            else "No royalty splits yet: they appear after a mint with "
                                 "more than one recipient.")
        self._update_buttons()
        self.loaded.emit()

    def selected_split(self) -> str | None:
        items = self.tree.selectedItems()
        if not items:
            return None
        item = items[0].parent() or items[0]
        return item.data(0, Qt.ItemDataRole.UserRole)

    def _update_buttons(self) -> None:
        split = self.selected_split()
        due = next((s.releasable for s in self.splits if s.address == split), 0)
        idle = self.job is None
        self.release_button.setEnabled(idle and due > 0)
        self.refresh_button.setEnabled(idle)

    def confirm_release(self) -> None:
        split = self.selected_split()
        if split is None or self.job is not None:
            return
        answer = QMessageBox.question(
            self, "Release royalties?",
            f"Pay each recipient of split {html.escape(split)} what is due now? One "
            "transaction per recipient; you pay the fees.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Yes:
            self.release(split)

    def release(self, split: str) -> None:
        from studio.core.chain.royalties import list_splits, release

        self.status.setText("Releasing…")

        async def go(session):
            await release(session.tm, session.account, split)
            self.ctx.emit(self.ctx.events.transaction_updated, 0)
            self.ctx.emit(self.ctx.events.balance_changed, "")
            return await list_splits(session.tm, self.ctx.library)

        self._run(go, self._loaded, "Releasing royalties")

    def _failed(self, exc: Exception) -> None:
        message = str(exc) or type(exc).__name__
        self.job = None
        self.status.setText(f"<span style='color:#c0392b'>{html.escape(message)}</span>")
        self._update_buttons()
        self.loaded.emit()
