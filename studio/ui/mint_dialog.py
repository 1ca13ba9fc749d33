"""The Mint dialog: collection, title, royalty, split editor, chain, fee estimate, confirm,
then step-by-step progress with explorer links.

Chain I/O is an async operation of the app's runner (on the qasync loop in the window) over a
:class:`ChainSession`; progress comes back on the GUI thread. Cancelling stops following the
chain: the mint is persisted at every step and resumes the next time it is started.
"""

from __future__ import annotations

import html
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from studio.core.chain.plan import (
    MintError,
    MintPlan,
    SplitEntry,
    check_address,
    parse_percent,
)
from studio.core.library import Asset
from studio.services.runner import Operation
from studio.ui.context import AppContext

NEW_COLLECTION = "__new__"
BAD = QBrush(QColor("#f5c6c0"))


class MintDialog(QDialog):
    minted = Signal(object)  # the MintRecord
    estimated = Signal()  # after each estimate (tests wait for it)

    def __init__(self, ctx: AppContext, asset: Asset, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.asset = ctx, asset
        self.job: Operation | None = None
        self.setWindowTitle(f"Mint “{asset.title or asset.original_name}”")
        self.resize(720, 640)
        self.profiles = ctx.profiles
        active = ctx.wallet.active_account()
        self.me = active.address if active else ""

        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.chain = QComboBox()
        for p in self.profiles.all():
            self.chain.addItem(f"{p.name} (chain {p.chain_id})", p.id)
        self.chain.setCurrentIndex(max(0, self.chain.findData(self.profiles.active().id)))
        form.addRow("&Chain", self.chain)
        self.collection = QComboBox()
        self.collection.addItem("Create a new collection…", NEW_COLLECTION)
        for address, name in self._known_collections():
            self.collection.addItem(f"{name} — {address}", address)
        self.collection.currentIndexChanged.connect(self._validate)
        form.addRow("C&ollection", self.collection)
        row = QHBoxLayout()
        self.coll_name = QLineEdit("Provenance Studio")
        self.coll_name.setPlaceholderText("Collection name")
        self.coll_symbol = QLineEdit("STUDIO")
        self.coll_symbol.setPlaceholderText("SYMBOL")
        self.coll_symbol.setMaximumWidth(120)
        symbol_label = QLabel("&Symbol")
        symbol_label.setBuddy(self.coll_symbol)
        row.addWidget(self.coll_name, 1)
        row.addWidget(symbol_label)
        row.addWidget(self.coll_symbol)
        self.new_row = QWidget()
        self.new_row.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        form.addRow("New collection &name", self.new_row)
        self.title = QLineEdit(asset.title or asset.original_name)
        form.addRow("&Title", self.title)
        self.description = QPlainTextEdit()
        self.description.setMaximumHeight(70)
        form.addRow("&Description", self.description)
        royalty = QHBoxLayout()
        self.royalty = QDoubleSpinBox()
        self.royalty.setRange(0, 100)
        self.royalty.setDecimals(2)
        self.royalty.setSingleStep(0.5)
        self.royalty.setSuffix(" %")
        self.royalty.setValue(5)
        self.allow_high = QCheckBox("Allow more than 10 % (deliberate)")
        royalty.addWidget(self.royalty)
        royalty.addWidget(self.allow_high)
        royalty.addStretch(1)
        form.addRow("Royalty", royalty)
        layout.addLayout(form)

        layout.addWidget(QLabel("<b>Royalty split</b> — who receives the royalties; shares "
                                "must add up to 100 %. You are the first row."))
        self.split = QTableWidget(0, 3)
        self.split.setHorizontalHeaderLabels(["Address", "Label", "Share %"])
        header = self.split.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.split.verticalHeader().hide()
        self.split.setMinimumHeight(130)
        layout.addWidget(self.split)
        buttons = QHBoxLayout()
        self.add_row_button = QPushButton("&Add recipient")
        self.add_row_button.clicked.connect(lambda: self.add_recipient("", "", ""))
        self.add_row_button.setToolTip("Add a recipient; your row keeps the remainder of the "
                                       "shares")
        self.remove_row_button = QPushButton("Remo&ve recipient")
        self.remove_row_button.clicked.connect(self._remove_row)
        self.sum_label = QLabel()
        buttons.addWidget(self.add_row_button)
        buttons.addWidget(self.remove_row_button)
        buttons.addStretch(1)
        buttons.addWidget(self.sum_label)
        layout.addLayout(buttons)

        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c0392b")
        layout.addWidget(self.problem)
        fee = QHBoxLayout()
        self.fee_label = QLabel("Fee estimate: press Estimate")
        self.fee_label.setWordWrap(True)  # a long estimate wraps; the dialog does not widen
        self.estimate_button = QPushButton("&Estimate fees")
        self.estimate_button.clicked.connect(self.estimate)
        fee.addWidget(self.fee_label, 1)
        fee.addWidget(self.estimate_button)
        layout.addLayout(fee)
        self.log = QTextBrowser()
        self.log.setOpenExternalLinks(True)
        self.log.setMinimumHeight(110)
        self.log.setPlaceholderText("Progress appears here: publish, split, collection, mint.")
        layout.addWidget(self.log, 1)

        self.buttons = QDialogButtonBox()
        self.mint_button = self.buttons.addButton("&Mint…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.mint_button.setDefault(True)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.mint_button.clicked.connect(self.confirm_and_mint)
        self.cancel_button.clicked.connect(self._cancel_or_close)
        layout.addWidget(self.buttons)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.confirm_and_mint)

        self._untouched: set[int] = set()  # rows added empty: no error until typed in
        self.add_recipient(self.me, "me", "100")
        self.split.itemChanged.connect(self._item_changed)
        for w in (self.coll_name, self.coll_symbol, self.title):
            w.textChanged.connect(self._validate)
        self.royalty.valueChanged.connect(self._validate)
        self.allow_high.toggled.connect(self._validate)
        self._validate()

    # -- the form ----------------------------------------------------------------------------

    def _known_collections(self) -> list[tuple[str, str]]:
        from studio.services.chain import known_collections

        return known_collections(self.ctx, self.me)

    def add_recipient(self, address: str, label: str, share: str) -> None:
        self.split.blockSignals(True)
        row = self.split.rowCount()
        self.split.insertRow(row)
        for col, text in enumerate((address, label, share)):
            item = QTableWidgetItem(text)
            if row == 0 and col == 0:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                item.setToolTip("Your active wallet account")
            self.split.setItem(row, col, item)
        self.split.blockSignals(False)
        if row > 0 and not address and not share:
            self._untouched.add(row)
            self.split.setCurrentCell(row, 0)
        self._rebalance()
        self._validate()

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.text().strip():
            self._untouched.discard(item.row())
        if item.column() == 2 and item.row() > 0:
            self._rebalance()
        self._validate()

    def _rebalance(self) -> None:
        """Your row (the first) takes what the other rows leave of 100 %."""
        if self.split.rowCount() < 1:
            return
        others = Decimal(0)
        for row in range(1, self.split.rowCount()):
            try:
                others += parse_percent(self._text(row, 2) or "0")
            except MintError:
                return  # a bad share is flagged by validation; leave your row as it is
        remainder = Decimal(100) - others
        if remainder < 0:
            return  # over 100 %: validation says so
        self.split.blockSignals(True)
        self.split.item(0, 2).setText(f"{remainder.normalize():f}")
        self.split.blockSignals(False)

    def _remove_row(self) -> None:
        row = self.split.currentRow()
        if row > 0:  # the first row is you
            self.split.removeRow(row)
            self._untouched = {r - 1 if r > row else r for r in self._untouched if r != row}
            self._rebalance()
            self._validate()

    def _text(self, row: int, col: int) -> str:
        item = self.split.item(row, col)
        return item.text().strip() if item else ""

    def plan(self) -> MintPlan:
        """The plan from the form, flagging bad cells in place; raises MintError."""
        entries, problems = [], []
        seen: dict[str, int] = {}
        self.split.blockSignals(True)
        try:
            for row in range(self.split.rowCount()):
                addr_item, share_item = self.split.item(row, 0), self.split.item(row, 2)
                for item in (addr_item, share_item):
                    item.setBackground(QBrush())
                try:
                    address = check_address(self._text(row, 0), what=f"address in row {row + 1}")
                    if address in seen:
                        raise MintError(f"Row {row + 1} repeats row {seen[address] + 1}")
                    seen[address] = row
                    addr_item.setToolTip(address)
                except MintError as exc:
                    addr_item.setBackground(BAD)
                    addr_item.setToolTip(str(exc))
                    problems.append(str(exc))
                    address = self._text(row, 0)
                try:
                    share = parse_percent(self._text(row, 2) or "0")
                    if share <= 0:
                        raise MintError(f"The share in row {row + 1} must be more than 0 %")
                except MintError as exc:
                    share_item.setBackground(BAD)
                    share_item.setToolTip(str(exc))
                    problems.append(str(exc))
                    share = Decimal(0)
                entries.append(SplitEntry(address, share, self._text(row, 1)))
        finally:
            self.split.blockSignals(False)
        total = sum((e.percent for e in entries), Decimal(0))
        self.sum_label.setText(f"Total: {total:g} %")
        if problems:
            raise MintError(problems[0])
        new = self.collection.currentData() == NEW_COLLECTION
        plan = MintPlan(asset_id=self.asset.id, title=self.title.text(),
                        description=self.description.toPlainText(),
                        collection=None if new else self.collection.currentData(),
                        new_collection=(self.coll_name.text(), self.coll_symbol.text())
                        if new else None,
                        royalty_percent=Decimal(str(round(self.royalty.value(), 2))),
                        allow_high_royalty=self.allow_high.isChecked(), split=tuple(entries))
        plan.validated()
        return plan

    def _validate(self, *_: object) -> bool:
        self.new_row.setEnabled(self.collection.currentData() == NEW_COLLECTION)
        running = self.job is not None
        try:
            if not self.me:
                raise MintError("No wallet account: create or import one in the Wallet "
                                "section first")
            self.plan()
        except MintError as exc:
            # A row just added and not typed in yet is not an error, only unfinished.
            self.split.blockSignals(True)
            for row in self._untouched:
                for col in (0, 2):
                    if self.split.item(row, col) is not None:
                        self.split.item(row, col).setBackground(QBrush())
            self.split.blockSignals(False)
            self.problem.setText("" if self._only_untouched_problems() else str(exc))
            ok = False
        else:
            self.problem.setText("")
            ok = True
        self.mint_button.setEnabled(ok and not running)
        self.estimate_button.setEnabled(ok and not running)
        self.remove_row_button.setEnabled(self.split.rowCount() > 1 and not running)
        return ok

    def _only_untouched_problems(self) -> bool:
        if not self._untouched or not self.me:
            return False
        for row in range(self.split.rowCount()):
            if row in self._untouched:
                continue
            for col in (0, 2):
                item = self.split.item(row, col)
                if item is not None and item.background().color() == BAD.color():
                    return False
        return True

    def profile(self):
        return self.profiles.get(self.chain.currentData())

    def showEvent(self, event) -> None:
        super().showEvent(event)
        window = self.parentWidget().window() if self.parentWidget() else None
        if window is not None:  # never larger than the window it belongs to
            self.setMaximumSize(window.size())
            self.resize(min(self.width(), window.width()), min(self.height(), window.height()))

    # -- chain work ----------------------------------------------------------------------------

    def _start(self, fn, on_done, label: str) -> None:
        """Run ``fn(session, progress)`` on a chain session of the chosen profile."""
        profile, post = self.profile(), self.ctx.runner.post

        def progress(_rec, message: str) -> None:
            post(lambda: self._progress(message))

        async def main():
            async with self.ctx.chain_session(profile) as session:
                return await fn(session, progress)

        self.job = self.ctx.runner.run_async(main, label=label)
        self._set_running(True)
        self.job.success(on_done).failure(self._failed).start()

    def _set_running(self, running: bool) -> None:
        for w in (self.chain, self.collection, self.new_row, self.title, self.description,
                  self.royalty, self.allow_high, self.split, self.add_row_button):
            w.setEnabled(not running)
        self.cancel_button.setText("Cancel" if running else "Close")
        self._validate()

    def estimate(self) -> None:
        if not self._validate():
            return
        plan = self.plan()
        self.fee_label.setText("Estimating…")

        async def go(session, _progress):
            return await session.estimate(plan)

        self._start(go, self._estimated, "Estimating mint fees")

    def _estimated(self, est) -> None:
        self.job = None
        self._set_running(False)
        currency = self.profile().currency
        self.fee_label.setText(
            f"Fee estimate: at most {est.max_cost_wei / 1e18:.6f} {currency} "
            f"({est.gas:,} gas at {est.max_fee_per_gas / 1e9:.2f} gwei) — "
            + ", ".join(est.steps))
        self.estimated.emit()

    def confirm_and_mint(self) -> None:
        """Work out every transaction and the most they can cost, show that, and mint only
        once the user accepts it (signing above it later stops with nothing sent)."""
        if not self._validate() or self.job is not None:
            return
        plan = self.plan()
        self.fee_label.setText("Estimating…")

        async def go(session, _progress):
            return await session.estimate(plan)

        self._start(go, lambda fee_plan: self._confirm(plan, fee_plan), "Estimating mint fees")

    def _confirm(self, plan: MintPlan, fee_plan) -> None:
        self._estimated(fee_plan)
        profile = self.profile()
        split = "<br>".join(f"{html.escape(e.label or '—')}: {e.address} — {e.percent:g} %"
                            for e in plan.split)
        fees = "<br>".join(html.escape(line) for line in fee_plan.lines())
        answer = QMessageBox.question(
            self, "Mint this work?",
            f"<p>Mint <b>{html.escape(plan.title)}</b> on <b>{html.escape(profile.name)}</b> "
            f"with a {plan.royalty_percent:g} % royalty split as:</p><p>{split}</p>"
            f"<p>{fees}</p>"
            "<p>A minted token cannot be unminted. Nothing will be signed above this fee.</p>",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Yes:
            self.start_mint(plan, fee_plan)

    def start_mint(self, plan: MintPlan, fee_plan=None) -> None:
        """Run the mint now (after confirmation); ``fee_plan``: the fees the user accepted."""
        self.log.clear()
        guard = fee_plan.guard() if fee_plan is not None else None

        async def go(session, progress):
            return await session.mint(plan, progress, guard)

        self._start(go, self._minted, "Minting")

    def _progress(self, message: str) -> None:
        from studio.core.chain.txmanager import explorer_tx_url

        text = html.escape(message)
        profile = self.profile()
        for word in message.split():
            if word.startswith("0x") and len(word) == 66:
                url = explorer_tx_url(profile, word)
                if url:
                    text = text.replace(word, f"<a href='{url}'>{word}</a>")
        self.log.append(f"• {text}")

    def _minted(self, rec) -> None:
        self.job = None
        self._set_running(False)
        self.mint_button.setEnabled(False)
        self.log.append(f"<b>Minted:</b> token {rec.token_id} in {rec.collection}")
        self.minted.emit(rec)

    def _failed(self, exc: Exception) -> None:
        from studio.services.runner import OperationCancelled

        if isinstance(exc, OperationCancelled):
            message = ("Cancelled. The mint is saved at its last step and resumes when you "
                       "mint this asset again.")
        else:
            message = str(exc) or type(exc).__name__
        self.job = None
        self._set_running(False)
        self.log.append(f"<span style='color:#c0392b'><b>Stopped:</b> "
                        f"{html.escape(message)}</span>")
        self.fee_label.setText(self.fee_label.text().replace("Estimating…", "Fee estimate: —"))

    def _cancel_or_close(self) -> None:
        if self.job is not None:
            self.job.cancel()
        else:
            self.reject()

    def reject(self) -> None:
        if self.job is not None:
            self.job.cancel()  # the mint resumes later from its saved step
            return
        super().reject()


def open_mint_dialog(ctx: AppContext, asset: Asset, parent: QWidget | None = None) -> MintDialog:
    dialog = MintDialog(ctx, asset, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
