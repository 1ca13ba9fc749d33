"""The first-run "Set up PyTorch" dialog: a thin view over :class:`ProvisionModel`."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.ui.dispatch import connect
from studio.viewmodels.provision import ProvisionModel


def _label() -> QLabel:
    label = QLabel("…")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ProvisionDialog(QDialog):
    def __init__(self, vm: ProvisionModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.setWindowTitle("Set up PyTorch for this computer")
        self.setMinimumWidth(560)
        intro = QLabel("Provenance Studio generates images with PyTorch. It installs the build "
                       "that fits your graphics hardware into your user folder, once.")
        intro.setWordWrap(True)
        self.detected, self.choice, self.download = _label(), _label(), _label()
        form = QFormLayout()
        form.addRow("Detected", self.detected)
        form.addRow("Will install", self.choice)
        form.addRow("Download", self.download)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setValue(0)
        self.message = _label()
        self.install_btn = QPushButton("Install")
        self.install_btn.setDefault(True)
        self.install_btn.clicked.connect(lambda: self.vm.install().start())
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.clicked.connect(self.vm.cancel)
        self.close_btn = QPushButton("Later (use the CPU)")
        self.close_btn.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.close_btn, self.cancel_btn, self.install_btn):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.bar)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        connect(vm.changed, self._render, self)
        connect(vm.progress, self._on_progress, self)
        self._render()

    def _render(self) -> None:
        vm = self.vm
        self.detected.setText(vm.detected or "…")
        self.choice.setText(vm.choice or "…")
        self.download.setText(vm.download or "…")
        self.message.setText(vm.message)
        running = vm.state in ("planning", "running")
        self.install_btn.setEnabled(vm.state in ("ready", "cancelled", "failed")
                                    and vm.plan is not None)
        self.install_btn.setText("Resume" if vm.state == "cancelled" else "Install")
        self.cancel_btn.setEnabled(vm.state == "running")
        self.close_btn.setText("Close" if vm.state == "done" else "Later (use the CPU)")
        self.close_btn.setEnabled(not running)
        if vm.state == "done":
            self.bar.setRange(0, 100)
            self.bar.setValue(100)
            self.bar.setFormat("Done")

    def _on_progress(self, phase: str, done: int, total: int) -> None:
        if phase == "download" and total:
            self.bar.setRange(0, 100)
            self.bar.setValue(int(done * 100 / total))
            self.bar.setFormat(f"Downloading %p% ({done / 2**20:,.1f} of "
                               f"{total / 2**20:,.1f} MiB)")
        elif phase in ("install", "verify"):
            self.bar.setRange(0, 0)  # pip gives no byte count: busy
            self.bar.setFormat("Installing…" if phase == "install" else "Verifying…")

    def reject(self) -> None:
        if self.vm.state == "running":
            self.vm.cancel()  # the download resumes next time
        super().reject()


def open_provision_dialog(studio, parent: QWidget | None = None) -> ProvisionDialog:
    """Show the dialog for ``studio`` (one view-model per studio) and start reading the plan."""
    from studio.viewmodels import ViewModels

    vm = ViewModels.of(studio).provision
    dialog = ProvisionDialog(vm, parent)
    if vm.state in ("idle", "failed"):
        vm.load_plan().start()
    dialog.show()
    return dialog
