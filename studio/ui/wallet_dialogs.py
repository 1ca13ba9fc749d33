"""Wallet dialogs (create, import, export) and the pool-thread runner they share.

Every keyring call and every KDF runs on a pool thread (an unlock prompt can block for as long
as the user likes); results come back through queued signals. A dialog stays open while it
works and shows any error inline, so the user can fix the input or retry.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from studio.services.runner import Operation, OperationRunner

log = logging.getLogger(__name__)

ERROR_STYLE = "color: #c62828;"
MIN_EXPORT_PASSWORD = 8


class TaskRunner(QObject):
    """A widget's view onto the app's one :class:`OperationRunner`: runs callables on its
    pool, calls back on the GUI thread, and says when this widget's own work is busy."""

    busy_changed = Signal(bool)
    finished_any = Signal()

    def __init__(self, parent: QObject | None, ops: OperationRunner) -> None:
        super().__init__(parent)
        self.ops = ops
        self._pending: set[Operation[Any]] = set()

    def busy(self) -> bool:
        return bool(self._pending)

    def run(self, fn: Callable[[], Any], on_ok: Callable[[Any], None],
            on_error: Callable[[Exception], None], label: str = "") -> None:
        self._track(self.ops.run(fn, label=label), on_ok, on_error)

    def run_async(self, fn: Callable[[], Any], on_ok: Callable[[Any], None],
                  on_error: Callable[[Exception], None], label: str = "") -> None:
        """Coroutine function ``fn`` on the app's event loop."""
        self._track(self.ops.run_async(fn, label=label), on_ok, on_error)

    def _track(self, op: Operation[Any], on_ok: Callable[[Any], None],
               on_error: Callable[[Exception], None]) -> None:
        self._pending.add(op)
        if len(self._pending) == 1:
            self.busy_changed.emit(True)

        def settle(callback: Callable[[Any], None], value: Any) -> None:
            if not isValid(self):
                return  # the widget was closed while the work ran: nobody to tell
            self._pending.discard(op)
            try:
                callback(value)
            finally:
                if not self._pending:
                    self.busy_changed.emit(False)
                self.finished_any.emit()

        op.success(lambda r: settle(on_ok, r)).failure(lambda e: settle(on_error, e)).start()


def error_text(exc: Exception) -> str:
    """The user-facing text for ``exc``: wallet errors as they are, others with a log hint."""
    from studio.core.wallet.errors import WalletError

    if isinstance(exc, WalletError):
        return str(exc)
    log.error("wallet operation failed", exc_info=exc)
    return f"Unexpected error ({type(exc).__name__}); details are in the log."


def _secret_field(placeholder: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setPlaceholderText(placeholder)
    return edit


def _with_show_toggle(edit: QLineEdit) -> QWidget:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    show = QCheckBox("Show")
    show.toggled.connect(lambda on: edit.setEchoMode(
        QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password))
    row.addWidget(edit, 1)
    row.addWidget(show)
    return box


class WalletDialog(QDialog):
    """A form whose OK runs ``job()`` off the GUI thread; errors show inline."""

    ok_text = "OK"

    def __init__(self, parent: QWidget, title: str, runner: TaskRunner) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        self.runner = runner
        self.result_value: Any = None
        self.body = QVBoxLayout()
        self.form = QFormLayout()
        self.body.addLayout(self.form)
        self.error = QLabel()
        self.error.setObjectName("dialogError")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.ok_text)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        outer = QVBoxLayout(self)
        outer.addLayout(self.body)
        outer.addWidget(self.error)
        outer.addWidget(self.progress)
        outer.addWidget(self.buttons)

    # Subclasses: return a problem to show, or None; then the job to run.
    def check(self) -> str | None:
        return None

    def job(self) -> Callable[[], Any]:
        raise NotImplementedError

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def submit(self) -> None:
        if self.runner.busy() and self.progress.isVisible():
            return
        problem = self.check()
        if problem:
            self.show_error(problem)
            return
        self.show_error("")
        self._set_busy(True)
        self.runner.run(self.job(), self._succeeded, self._failed)

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.ok_button.setEnabled(not busy)

    def _succeeded(self, result: Any) -> None:
        self._set_busy(False)
        self.result_value = result
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self._set_busy(False)
        self.show_error(error_text(exc))


class ImportKeyDialog(WalletDialog):
    ok_text = "Import"

    def __init__(self, parent: QWidget, runner: TaskRunner, service) -> None:
        super().__init__(parent, "Import a private key", runner)
        self.service = service
        self.key = _secret_field("64 hexadecimal digits, with or without 0x")
        self.label = QLineEdit()
        self.label.setPlaceholderText("optional, e.g. Studio main")
        self.form.addRow("Private key", _with_show_toggle(self.key))
        self.form.addRow("Label", self.label)

    def check(self) -> str | None:
        return None if self.key.text().strip() else "Paste the private key."

    def job(self) -> Callable[[], Any]:
        key, label = self.key.text(), self.label.text()
        return lambda: self.service.import_private_key(key, label)

    def accept(self) -> None:
        self.key.clear()
        super().accept()


class ImportMnemonicDialog(WalletDialog):
    ok_text = "Import"

    def __init__(self, parent: QWidget, runner: TaskRunner, service) -> None:
        super().__init__(parent, "Import a recovery phrase", runner)
        self.service = service
        self.phrase = QPlainTextEdit()
        self.phrase.setPlaceholderText("12, 15, 18, 21 or 24 words separated by spaces")
        self.phrase.setTabChangesFocus(True)
        self.phrase.setFixedHeight(80)
        self.index = QSpinBox()
        self.index.setRange(0, 2**31 - 1)
        self.index.setToolTip("The first account index i on the path m/44'/60'/0'/0/i")
        self.count = QSpinBox()
        self.count.setRange(1, 100)
        self.count.setToolTip("How many consecutive accounts to add")
        self.label = QLineEdit()
        self.label.setPlaceholderText("optional; several accounts get #index after it")
        self.form.addRow("Recovery phrase", self.phrase)
        self.form.addRow("First index", self.index)
        self.form.addRow("Accounts", self.count)
        self.form.addRow("Label", self.label)

    def check(self) -> str | None:
        return None if self.phrase.toPlainText().strip() else "Type the recovery phrase."

    def job(self) -> Callable[[], Any]:
        phrase, index, count = self.phrase.toPlainText(), self.index.value(), self.count.value()
        label = self.label.text()
        return lambda: self.service.import_mnemonic(phrase, index, count, label)

    def accept(self) -> None:
        self.phrase.clear()
        super().accept()


class ImportKeystoreDialog(WalletDialog):
    ok_text = "Import"

    def __init__(self, parent: QWidget, runner: TaskRunner, service) -> None:
        super().__init__(parent, "Import a keystore file", runner)
        self.service = service
        self.path = QLineEdit()
        self.path.setPlaceholderText("a keystore v3 JSON file (UTC--… from geth, cast, MetaMask)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(self.path, 1)
        h.addWidget(browse)
        self.password = _secret_field()
        self.label = QLineEdit()
        self.label.setPlaceholderText("optional")
        self.form.addRow("Keystore file", row)
        self.form.addRow("Password", self.password)
        self.form.addRow("Label", self.label)

    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Choose a keystore file", "",
                                              "Keystore (*.json UTC--*);;All files (*)")
        if name:
            self.path.setText(name)

    def check(self) -> str | None:
        if not self.path.text().strip():
            return "Choose the keystore file."
        return None

    def job(self) -> Callable[[], Any]:
        path, password, label = Path(self.path.text().strip()), self.password.text(), \
            self.label.text()
        return lambda: self.service.import_keystore(path, password, label)

    def accept(self) -> None:
        self.password.clear()
        super().accept()


class ExportKeystoreDialog(WalletDialog):
    ok_text = "Export"

    def __init__(self, parent: QWidget, runner: TaskRunner, service, account) -> None:
        super().__init__(parent, "Export a keystore file", runner)
        self.service, self.account = service, account
        intro = QLabel(f"Write <b>{account.label}</b> ({account.address}) as a keystore v3 file "
                       "encrypted with scrypt. Keep the password safe: the file cannot be opened "
                       "without it.")
        intro.setWordWrap(True)
        self.body.insertWidget(0, intro)
        self.password = _secret_field(f"at least {MIN_EXPORT_PASSWORD} characters")
        self.repeat = _secret_field()
        self.path = QLineEdit(str(Path.home() / f"{account.address}.json"))
        self._confirmed_path = ""
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(self.path, 1)
        h.addWidget(browse)
        self.form.addRow("Password", self.password)
        self.form.addRow("Repeat password", self.repeat)
        self.form.addRow("Save to", row)

    def _browse(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save keystore", self.path.text(),
                                              "Keystore (*.json)")
        if name:
            self.path.setText(name)
            self._confirmed_path = name  # the file dialog already asked about overwriting

    def check(self) -> str | None:
        if len(self.password.text()) < MIN_EXPORT_PASSWORD:
            return f"Use a password of at least {MIN_EXPORT_PASSWORD} characters."
        if self.password.text() != self.repeat.text():
            return "The two passwords do not match."
        if not self.path.text().strip():
            return "Choose where to save the keystore."
        return None

    def job(self) -> Callable[[], Any]:
        path = Path(self.path.text().strip()).expanduser()
        password, address = self.password.text(), self.account.address
        overwrite = self.path.text().strip() == self._confirmed_path
        return lambda: self.service.write_keystore(address, password, path, overwrite)

    def accept(self) -> None:
        self.password.clear()
        self.repeat.clear()
        super().accept()


class CreateMnemonicDialog(WalletDialog):
    """Shows a new phrase once, then asks for a few of its words back before storing."""

    ok_text = "Create account"
    CONFIRM = 3

    def __init__(self, parent: QWidget, runner: TaskRunner, service) -> None:
        super().__init__(parent, "New recovery phrase", runner)
        self.service = service
        self._words: list[str] = []
        self.positions: list[int] = []
        self.pages = QStackedWidget()
        self.body.insertWidget(0, self.pages)

        show = QWidget()
        v = QVBoxLayout(show)
        warn = QLabel("<b>Write these words down, in order, and keep them offline.</b> Anyone "
                      "with them controls the account; without them (or an exported keystore) "
                      "a lost keyring means a lost account. They are shown only in this "
                      "dialog.")
        warn.setWordWrap(True)
        v.addWidget(warn)
        self.grid = QGridLayout()
        self.word_labels: list[QLabel] = []
        v.addLayout(self.grid)
        self.generating = QLabel("Generating…")
        v.addWidget(self.generating)
        self.written = QCheckBox("I have written down all the words")
        v.addWidget(self.written)
        self.pages.addWidget(show)

        confirm = QWidget()
        self.confirm_form = QFormLayout(confirm)
        intro = QLabel("Type these words from your recovery phrase to show you have it.")
        intro.setWordWrap(True)
        self.confirm_form.addRow(intro)
        self.confirm_edits: list[QLineEdit] = []
        self.label = QLineEdit()
        self.label.setPlaceholderText("optional")
        self.pages.addWidget(confirm)

        self.back = self.buttons.addButton("Back", QDialogButtonBox.ButtonRole.ResetRole)
        self.back.clicked.connect(lambda: self._go(0))
        self.written.toggled.connect(self._sync)
        self._go(0)
        self.runner.run(lambda: self.service.new_mnemonic(12), self._show_words,
                        lambda exc: self.show_error(error_text(exc)))

    def _show_words(self, phrase: str) -> None:
        self._words = phrase.split()
        self.generating.hide()
        for i, word in enumerate(self._words):
            label = QLabel(f"<span style='color:gray'>{i + 1:>2}.</span> <b>{word}</b>")
            label.setObjectName("mnemonicWord")
            self.word_labels.append(label)
            self.grid.addWidget(label, i // 3, i % 3)
        rng = secrets.SystemRandom()
        self.positions = sorted(rng.sample(range(len(self._words)), self.CONFIRM))
        for n in self.positions:
            edit = QLineEdit()
            edit.setObjectName(f"confirmWord{n + 1}")
            self.confirm_edits.append(edit)
            self.confirm_form.addRow(f"Word #{n + 1}", edit)
        self.confirm_form.addRow("Label", self.label)
        self._sync()

    def _go(self, page: int) -> None:
        self.pages.setCurrentIndex(page)
        self.show_error("")
        self._sync()

    def _sync(self) -> None:
        on_words = self.pages.currentIndex() == 0
        self.back.setVisible(not on_words)
        self.ok_button.setText("Next" if on_words else self.ok_text)
        self.ok_button.setEnabled(bool(self._words) and (self.written.isChecked()
                                                         or not on_words))

    def check(self) -> str | None:
        for n, edit in zip(self.positions, self.confirm_edits, strict=True):
            if edit.text().strip().lower() != self._words[n]:
                return (f"Word #{n + 1} does not match the phrase. Press Back to see the "
                        "words again.")
        return None

    def submit(self) -> None:
        if self.pages.currentIndex() == 0:
            if self._words and self.written.isChecked():
                self._go(1)
                self.confirm_edits[0].setFocus()
            return
        super().submit()

    def job(self) -> Callable[[], Any]:
        phrase, label = " ".join(self._words), self.label.text()
        return lambda: self.service.create_from_mnemonic(phrase, label)

    def done(self, result: int) -> None:
        # Forget the words whichever way the dialog closes: they are shown only once.
        self._words = []
        for widget in (*self.word_labels, *self.confirm_edits):
            widget.clear()
        super().done(result)
