"""Settings → Chains: add, test, switch and remove chain profiles. An RPC URL with an API key
goes to the OS keyring (the settings file keeps it redacted). Bound to the chains view-model."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.ui.context import AppContext
from studio.ui.dispatch import connect
from studio.viewmodels import ViewModels

CUSTOM = ""


class AddChainDialog(QDialog):
    """Name, RPC URL, chain id, confirmations; a preset fills what it knows."""

    def __init__(self, presets: list, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a chain")
        form = QFormLayout(self)
        self.preset = QComboBox()
        self.preset.addItem("Custom chain", CUSTOM)
        for p in presets:
            self.preset.addItem(f"{p.name} (chain {p.chain_id})", p.key)
        self._presets = {p.key: p for p in presets}
        self.preset.currentIndexChanged.connect(self._preset_changed)
        form.addRow("&Preset", self.preset)
        self.name = QLineEdit()
        form.addRow("&Name", self.name)
        self.rpc_url = QLineEdit()
        self.rpc_url.setPlaceholderText("https://sepolia.infura.io/v3/YOUR-KEY")
        self.rpc_url.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)  # it may hold a key
        self.rpc_url.setToolTip("A URL with an API key is kept only in the OS keyring")
        form.addRow("&RPC URL", self.rpc_url)
        self.chain_id = QSpinBox()
        self.chain_id.setRange(1, 2**31 - 1)
        form.addRow("Chain &id", self.chain_id)
        self.confirmations = QSpinBox()
        self.confirmations.setRange(1, 256)
        form.addRow("&Confirmations", self.confirmations)
        self.explorer = QLineEdit()
        self.explorer.setPlaceholderText("https://sepolia.etherscan.io (optional)")
        form.addRow("&Explorer", self.explorer)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c0392b")
        form.addRow(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _preset_changed(self) -> None:
        p = self._presets.get(self.preset.currentData())
        for w in (self.chain_id, self.explorer):
            w.setEnabled(p is None)
        if p is not None:
            self.name.setText(p.name)
            self.chain_id.setValue(p.chain_id)
            self.confirmations.setValue(p.confirmations)
            self.explorer.setText(p.explorer_url)

    def fields(self) -> dict:
        if self.preset.currentData():
            return {"preset": self.preset.currentData(), "rpc_url": self.rpc_url.text(),
                    "name": self.name.text().strip(),
                    "confirmations": self.confirmations.value()}
        return {"name": self.name.text().strip(), "rpc_url": self.rpc_url.text(),
                "chain_id": self.chain_id.value(), "confirmations": self.confirmations.value(),
                "explorer_url": self.explorer.text().strip()}


class ChainsBox(QGroupBox):
    tested = Signal(object)  # the ConnectionReport, or the exception (tests wait for it)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Chains", parent)
        self.ctx = ctx
        self.vm = ViewModels.of(ctx).chains
        layout = QVBoxLayout(self)
        self.list = QListWidget()
        self.list.setMaximumHeight(140)
        self.list.currentRowChanged.connect(lambda _r: self._sync())
        layout.addWidget(self.list)
        row = QHBoxLayout()
        self.add_button = QPushButton("&Add chain…")
        self.add_button.clicked.connect(self.add)
        self.test_button = QPushButton("&Test")
        self.test_button.setToolTip("Connect and show chain id, latest block and latency")
        self.test_button.clicked.connect(self.test)
        self.use_button = QPushButton("&Use")
        self.use_button.setToolTip("Make it the active chain (minting, balances, funding)")
        self.use_button.clicked.connect(self.use)
        self.remove_button = QPushButton("Remo&ve…")
        self.remove_button.clicked.connect(self.remove)
        for b in (self.add_button, self.test_button, self.use_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        layout.addLayout(row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)
        connect(self.vm.changed, self.reload, self)
        self.reload()

    def reload(self) -> None:
        keep = self.selected_id()
        active = self.vm.active_id()
        self.list.clear()
        for p in self.vm.profiles():
            mark = "● " if p.id == active else "   "
            secret = " · URL in keyring" if p.rpc_in_keyring else ""
            item = QListWidgetItem(f"{mark}{p.name} — chain {p.chain_id}{secret}")
            item.setData(Qt.ItemDataRole.UserRole, p.id)
            item.setToolTip(p.rpc_url)
            self.list.addItem(item)
            if p.id == (keep or active):
                self.list.setCurrentItem(item)
        self._sync()

    def selected_id(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _sync(self) -> None:
        chosen = self.selected_id()
        self.test_button.setEnabled(chosen is not None)
        self.use_button.setEnabled(chosen is not None and chosen != self.vm.active_id())
        self.remove_button.setEnabled(chosen is not None and chosen != "sandbox")

    def say(self, text: str, error: bool = False) -> None:
        self.status.setText(f"<span style='color:#c0392b'>{html.escape(text)}</span>"
                            if error else html.escape(text))

    def add(self, fields: dict | None = None) -> None:
        """Add from the dialog (or from ``fields``, as tests do)."""
        if fields is None:
            dialog = AddChainDialog(self.vm.presets(), self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            fields = dialog.fields()
        from studio.core.chain.profiles import ProfileError

        try:
            profile = self.vm.add(**fields)
        except (ProfileError, OSError) as exc:
            self.say(str(exc), error=True)
            return
        where = " Its URL holds a key, so it is kept in the OS keyring." \
            if profile.rpc_in_keyring else ""
        self.say(f"Added {profile.name}.{where}")

    def test(self) -> None:
        chosen = self.selected_id()
        if chosen is None:
            return
        self.test_button.setEnabled(False)
        self.say("Connecting…")

        def done(report) -> None:
            self._sync()
            text = (f"{report.url}: chain {report.chain_id}, block {report.block_number}, "
                    f"{report.latency_ms} ms, {report.client}")
            if not report.matches:
                self.say(f"Chain id mismatch — {text}", error=True)
            else:
                self.say(f"Connected — {text}")
            self.tested.emit(report)

        def failed(exc: Exception) -> None:
            self._sync()
            self.say(str(exc) or type(exc).__name__, error=True)
            self.tested.emit(exc)

        self.vm.test(chosen).success(done).failure(failed).start()

    def use(self) -> None:
        chosen = self.selected_id()
        if chosen is None:
            return
        profile = self.vm.use(chosen)
        self.say(f"{profile.name} is now the active chain.")

    def remove(self, confirm: bool = True) -> None:
        chosen = self.selected_id()
        if chosen is None or chosen == "sandbox":
            return
        if confirm and QMessageBox.question(
                self, "Remove chain", f"Remove the chain profile {chosen!r}? Its keyring entry "
                "is deleted too; transactions already recorded stay in Activity.") \
                != QMessageBox.StandardButton.Yes:
            return
        from studio.core.chain.profiles import ProfileError

        try:
            self.vm.remove(chosen)
        except ProfileError as exc:
            self.say(str(exc), error=True)
            return
        self.say(f"Removed {chosen}.")
