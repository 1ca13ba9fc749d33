"""The Wallet section: accounts (label, address with copy, balance), create/import/export,
rename, remove with confirmation, and the active account shown in the status bar.

The list comes from settings (instant); everything that touches the keyring or a KDF goes
through the dialogs' TaskRunner on a pool thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QFontDatabase, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.settings import WalletAccount
from studio.ui.context import AppContext
from studio.ui.text import account_status
from studio.ui.wallet_dialogs import (
    ERROR_STYLE,
    CreateMnemonicDialog,
    ExportKeystoreDialog,
    ImportKeyDialog,
    ImportKeystoreDialog,
    ImportMnemonicDialog,
    TaskRunner,
    WalletDialog,
    error_text,
)
from studio.viewmodels.wallet import NO_CHAIN_BALANCE

COLUMNS = ["", "Label", "Address", "", "Source", "Balance"]
COL_ACTIVE, COL_LABEL, COL_ADDRESS, COL_COPY, COL_SOURCE, COL_BALANCE = range(6)
SOURCE_TEXT = {"created": "created here", "key": "private key", "mnemonic": "recovery phrase",
               "keystore": "keystore file"}


class WalletSection(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()

        self.ctx = ctx
        from studio.ui.dispatch import connect
        from studio.viewmodels import ViewModels

        self.service = ctx.wallet
        self.model = ViewModels.of(ctx).wallet
        self.runner = TaskRunner(self, ctx.runner)
        self.dialog: WalletDialog | None = None
        self._keyring_problem = ""
        self._funding = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 32, 32, 32)
        heading = QLabel("Wallet")
        heading.setObjectName("sectionHeading")
        layout.addWidget(heading)
        blurb = QLabel("Keys and recovery phrases live only in your operating system's keyring; "
                       "this list holds addresses and labels. Export a keystore to keep a "
                       "backup.")
        blurb.setWordWrap(True)
        layout.addWidget(blurb)
        self.banner = QLabel()
        self.banner.setObjectName("keyringBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background:#fff3cd; color:#5c4400; padding:8px; "
                                  "border-radius:4px;")
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()
        layout.addWidget(self.banner)

        layout.addLayout(self._build_toolbar())

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_LABEL, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._sync_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.set_active())
        layout.addWidget(self.table, 1)
        self.empty = QLabel("No accounts yet. Create one (Ctrl+N) or import a key, recovery "
                            "phrase or keystore file (Ctrl+I).")
        self.empty.setObjectName("placeholderText")
        self.empty.setWordWrap(True)
        layout.addWidget(self.empty)

        status_row = QHBoxLayout()
        self.status = QLabel()
        self.status.setObjectName("walletStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.progress.hide()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.progress)
        layout.addLayout(status_row)
        self.runner.busy_changed.connect(self.progress.setVisible)
        self.runner.finished_any.connect(self.refresh)
        connect(self.model.accounts_changed, self.refresh, self)
        connect(self.model.balances_changed, self.show_balances, self)
        connect(ctx.events.chain_switched, lambda _id: self._sync_buttons(), self)
        connect(ctx.events.theme_changed, lambda _t: self.show_balances(), self)  # item colours

        self.refresh()
        self.model.refresh_balances()
        # A keyring check can block (D-Bus, unlock prompt): off the GUI thread.
        self.runner.run(self.service.check_keyring, lambda _r: self._set_keyring_problem(""),
                        lambda exc: self._set_keyring_problem(error_text(exc)))

    # -- building -------------------------------------------------------------------------------

    def _action(self, text: str, shortcut: str | QKeySequence.StandardKey | None,
                slot: Callable[[], Any], tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.setToolTip(tip or text)
        action.triggered.connect(lambda _=False: slot())
        self.addAction(action)
        return action

    def _menu_button(self, text: str, actions: list[QAction]) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        menu = QMenu(button)
        for a in actions:
            menu.addAction(a)
        button.setMenu(menu)
        return button

    def _build_toolbar(self) -> QHBoxLayout:
        self.act_new_key = self._action("New private key", "Ctrl+N", self.create_key,
                                        "Create an account from a new random key")
        self.act_new_phrase = self._action("New recovery phrase…", "Ctrl+Shift+N",
                                           self.create_mnemonic,
                                           "Create an account from a new 12-word phrase")
        self.act_import_key = self._action("Private key…", "Ctrl+Shift+K", self.import_key)
        self.act_import_phrase = self._action("Recovery phrase…", "Ctrl+Shift+R",
                                              self.import_mnemonic)
        self.act_import_keystore = self._action("Keystore file…", None, self.import_keystore)
        self.act_copy = self._action("Copy address", QKeySequence.StandardKey.Copy,
                                     self.copy_address)
        self.create_button = self._menu_button("Create", [self.act_new_key,
                                                          self.act_new_phrase])
        self.import_button = self._menu_button("Import", [self.act_import_key,
                                                          self.act_import_phrase,
                                                          self.act_import_keystore])
        self.active_button = QPushButton("Set active")
        self.active_button.setToolTip("Sign and mint with this account (Enter)")
        self.active_button.clicked.connect(self.set_active)
        self.rename_button = QPushButton("Rename…")
        self.rename_button.setToolTip("Change the label (F2)")
        self.rename_button.clicked.connect(self.rename)
        self.export_button = QPushButton("Export keystore…")
        self.export_button.setToolTip("Save an encrypted keystore v3 file as a backup (Ctrl+E)")
        self.export_button.clicked.connect(self.export)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setToolTip("Delete the account and its key from the keyring (Del)")
        self.remove_button.clicked.connect(self.remove)
        self.fund_button = QPushButton("&Fund (sandbox)")
        self.fund_button.clicked.connect(self.fund)
        self._action("Set active", "Return", self.set_active)
        self._action("Rename", "F2", self.rename)
        self._action("Export", "Ctrl+E", self.export)
        self._action("Remove", QKeySequence.StandardKey.Delete, self.remove)
        row = QHBoxLayout()
        for w in (self.create_button, self.import_button):
            row.addWidget(w)
        row.addStretch(1)
        for w in (self.fund_button, self.active_button, self.rename_button,
                  self.export_button, self.remove_button):
            row.addWidget(w)
        return row

    # -- state ------------------------------------------------------------------------------------

    def accounts(self) -> list[WalletAccount]:
        return self.service.list_accounts()

    def selected(self) -> WalletAccount | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        address = self.table.item(rows[0].row(), COL_ADDRESS).text()
        return next((a for a in self.accounts() if a.address == address), None)

    def refresh(self) -> None:
        keep = self.selected()
        accounts = self.accounts()
        active = self.service.active_account()
        active_addr = active.address if active else ""
        self.table.setRowCount(len(accounts))
        for row, a in enumerate(accounts):
            mark = QTableWidgetItem("●" if a.address == active_addr else "")
            mark.setToolTip("Active account" if a.address == active_addr else "")
            mark.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            label = QTableWidgetItem(a.label)
            address = QTableWidgetItem(a.address)
            address.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
            address.setToolTip(a.address)
            source = QTableWidgetItem(SOURCE_TEXT.get(a.source, a.source))
            if a.derivation_path:
                source.setToolTip(f"Derivation path {a.derivation_path}")
            balance = QTableWidgetItem()
            self._set_balance(balance, a.address)
            for col, item in ((COL_ACTIVE, mark), (COL_LABEL, label), (COL_ADDRESS, address),
                              (COL_SOURCE, source), (COL_BALANCE, balance)):
                self.table.setItem(row, col, item)
            copy = QToolButton()
            copy.setText("Copy")
            copy.setToolTip(f"Copy {a.address} to the clipboard")
            copy.clicked.connect(lambda _=False, addr=a.address: self._copy(addr))
            self.table.setCellWidget(row, COL_COPY, copy)
            if keep and keep.address == a.address:
                self.table.selectRow(row)
        if self.table.selectionModel().selectedRows() == [] and accounts:
            index = next((i for i, a in enumerate(accounts) if a.address == active_addr), 0)
            self.table.selectRow(index)
        self.table.setVisible(bool(accounts))
        self.empty.setVisible(not accounts)
        self._sync_buttons()
        self._update_status_bar(active)

    def _set_balance(self, item: QTableWidgetItem, address: str) -> None:
        text = self.model.balance_text(address)
        item.setText(text)
        if text == NO_CHAIN_BALANCE:
            item.setForeground(self.palette().placeholderText())
            item.setToolTip("Balances appear once the active chain runs (fund or mint on the "
                            "Sandbox, or add a chain in Settings → Chains)")
        else:
            item.setData(Qt.ItemDataRole.ForegroundRole, None)
            item.setToolTip(f"Balance on {self.ctx.profiles.active().name}")

    def show_balances(self) -> None:
        for row in range(self.table.rowCount()):
            address, item = self.table.item(row, COL_ADDRESS), self.table.item(row, COL_BALANCE)
            if address is not None and item is not None:
                self._set_balance(item, address.text())

    def _changed(self) -> None:
        """Tell the app the accounts changed (status bar, balances, other views)."""
        self.ctx.emit(self.ctx.events.wallet_changed)

    def _sync_buttons(self) -> None:
        has = self.selected() is not None
        usable = not self._keyring_problem
        why = "" if usable else "No usable OS keyring: see the message above."
        for w in (self.create_button, self.import_button):
            w.setEnabled(usable)
            w.setToolTip(why)
        for a in (self.act_new_key, self.act_new_phrase, self.act_import_key,
                  self.act_import_phrase, self.act_import_keystore):
            a.setEnabled(usable)
        for b in (self.active_button, self.rename_button):
            b.setEnabled(has)
        for b in (self.export_button, self.remove_button):
            b.setEnabled(has and usable)
        self.act_copy.setEnabled(has)
        problem = self._fund_problem()
        self.fund_button.setEnabled(problem is None)
        self.fund_button.setToolTip(
            "Give the selected account 100 test ETH on the local Sandbox chain"
            if problem is None else f"Not available: {problem}")

    def _fund_problem(self) -> str | None:
        from studio.core.chain.profiles import SANDBOX_ID

        if self.selected() is None:
            return "select an account"
        if self._funding:
            return "funding is in progress"
        if self.ctx.profiles.active().id != SANDBOX_ID:
            return "the active chain is not the Sandbox (test ETH exists only there)"
        return None

    def _set_keyring_problem(self, text: str) -> None:
        self._keyring_problem = text
        self.banner.setText(text)
        self.banner.setVisible(bool(text))
        self._sync_buttons()

    def _update_status_bar(self, active: WalletAccount | None) -> None:
        window = self.window()
        if not hasattr(window, "set_status"):
            return
        window.set_status("account", account_status(active),
                          active.address if active else "No active wallet account")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._sync_buttons()  # the active chain may have changed elsewhere
        self._update_status_bar(self.service.active_account())

    def say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    # -- actions --------------------------------------------------------------------------------

    def _open(self, dialog: WalletDialog, done: Callable[[Any], str]) -> WalletDialog:
        """Open ``dialog`` window-modal without blocking; report its result when accepted."""
        self.dialog = dialog

        def finished(code: int) -> None:
            if code == dialog.DialogCode.Accepted and dialog.result_value is not None:
                self.say(done(dialog.result_value))
                self._changed()
            self.refresh()

        dialog.finished.connect(finished)
        dialog.open()
        return dialog

    def _background(self, what: str, fn: Callable[[], Any], done: Callable[[Any], str]) -> None:
        """Run a keyring operation off the GUI thread; a locked keyring offers a retry."""
        from studio.core.wallet.errors import KeyringLockedError

        def failed(exc: Exception) -> None:
            text = error_text(exc)
            self.say(f"{what} failed: {text}", error=True)
            if isinstance(exc, KeyringLockedError):
                again = QMessageBox.warning(
                    self, "Keyring locked", text,
                    QMessageBox.StandardButton.Retry | QMessageBox.StandardButton.Cancel)
                if again == QMessageBox.StandardButton.Retry:
                    self._background(what, fn, done)

        self.say(f"{what}…")
        def ok(result: Any) -> None:
            self.say(done(result))
            self._changed()

        self.runner.run(fn, ok, failed, label=what)

    def create_key(self) -> None:
        self._background("Creating an account", self.service.create_account,
                         lambda a: f"Created {a.label} ({a.address}). Export a keystore to keep "
                                   "a backup.")

    def create_mnemonic(self) -> WalletDialog:
        return self._open(CreateMnemonicDialog(self, self.runner, self.service),
                          lambda a: f"Created {a.label} ({a.address}) from a new recovery "
                                    "phrase.")

    def import_key(self) -> WalletDialog:
        return self._open(ImportKeyDialog(self, self.runner, self.service),
                          lambda a: f"Imported {a.label} ({a.address}).")

    def import_mnemonic(self) -> WalletDialog:
        return self._open(ImportMnemonicDialog(self, self.runner, self.service),
                          lambda accts: f"Imported {len(accts)} account(s): "
                                        + ", ".join(a.label for a in accts) + ".")

    def import_keystore(self) -> WalletDialog:
        return self._open(ImportKeystoreDialog(self, self.runner, self.service),
                          lambda a: f"Imported {a.label} ({a.address}).")

    def export(self, account: WalletAccount | None = None) -> WalletDialog | None:
        account = account or self.selected()
        if account is None or self._keyring_problem:
            return None
        return self._open(ExportKeystoreDialog(self, self.runner, self.service, account),
                          lambda path: f"Exported {account.label} to {path}.")

    def _copy(self, address: str) -> None:
        QGuiApplication.clipboard().setText(address)
        self.say(f"Copied {address} to the clipboard.")

    def copy_address(self) -> None:
        account = self.selected()
        if account is not None:
            self._copy(account.address)

    def _settings_op(self, fn: Callable[[], WalletAccount], done: Callable[[Any], str]) -> None:
        from studio.core.wallet.errors import WalletError

        try:
            self.say(done(fn()))
        except WalletError as exc:
            self.say(str(exc), error=True)
        else:
            self._changed()
        self.refresh()

    def set_active(self) -> None:
        account = self.selected()
        if account is not None:
            self._settings_op(lambda: self.service.set_active(account.address),
                              lambda a: f"{a.label} is now the active account.")

    def rename(self) -> None:
        account = self.selected()
        if account is None:
            return
        label, ok = QInputDialog.getText(self, "Rename account", f"Label for {account.address}",
                                         text=account.label)
        if ok:
            self._settings_op(lambda: self.service.rename(account.address, label),
                              lambda a: f"Renamed to {a.label}.")

    def fund(self) -> None:
        """Top up the selected account on the Sandbox, off the GUI thread (the first use
        starts the sandbox node)."""
        from studio.core.chain.sandbox import SANDBOX_FUNDING_WEI

        account = self.selected()
        if account is None or self._fund_problem() is not None:
            return
        ctx = self.ctx

        def done(balance: int) -> None:
            self._funding = False
            self.say(f"Funded {account.label} with {SANDBOX_FUNDING_WEI // 10**18} test ETH "
                     f"on the Sandbox; its balance is {balance / 1e18:,.4f} ETH.")
            self._sync_buttons()

        def failed(exc: Exception) -> None:
            from studio.core.chain.rpc import ChainError
            from studio.core.chain.sandbox import SandboxError

            self._funding = False
            text = str(exc) if isinstance(exc, ChainError | SandboxError) else error_text(exc)
            self.say(f"Funding failed: {text}", error=True)
            self._sync_buttons()

        self._funding = True
        self.say(f"Funding {account.label} on the Sandbox (starting it if needed)…")
        self._sync_buttons()
        self.runner.run_async(lambda: ctx.fund(account.address, SANDBOX_FUNDING_WEI), done, failed,
                              label="Funding on the Sandbox")

    def confirm_remove(self, account: WalletAccount) -> str:
        """Ask before removing; returns ``remove``, ``export`` or ``cancel``."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Remove account")
        box.setText(f"Remove {account.label} ({account.address})?")
        box.setInformativeText(
            "Its key is deleted from your OS keyring. Unless you have exported a keystore or "
            "kept its recovery phrase, the account and anything it holds are lost for good.")
        export = box.addButton("Export first…", QMessageBox.ButtonRole.ActionRole)
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        return "remove" if clicked is remove else "export" if clicked is export else "cancel"

    def remove(self) -> None:
        account = self.selected()
        if account is None or self._keyring_problem:
            return
        choice = self.confirm_remove(account)
        if choice == "export":
            self.export(account)
        elif choice == "remove":
            self._background(f"Removing {account.label}",
                             lambda: self.service.remove(account.address),
                             lambda a: f"Removed {a.label} ({a.address}).")


def build(ctx: AppContext) -> QWidget:
    return WalletSection(ctx)
