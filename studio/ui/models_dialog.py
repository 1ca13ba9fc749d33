"""The model manager: a one-click starter list, any Hugging Face repo (or one file in it) with
the plan shown before anything is written, download progress with speed/ETA and Cancel, and the
registered models and LoRAs filtered by family. A thin widget over
:class:`studio.viewmodels.models.ModelManagerModel`; the slow work runs in the app's runner."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.generation.families import FAMILIES, Family
from studio.ui.context import AppContext
from studio.ui.dispatch import connect


def _human(n: float) -> str:
    from studio.core.models.download import human

    return human(n)


class ModelsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from studio.viewmodels import ViewModels

        self.setWindowTitle("Models")
        self.vm = ViewModels.of(ctx).models
        self._plan: Any = None
        self._op: Any = None
        connect(self.vm.progress, self._on_progress, self)
        connect(self.vm.models_changed, self.reload, self)
        self._build()
        self.reload()

    # -- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        starters = QGroupBox("Start with one of these")
        sl = QVBoxLayout(starters)
        self.starters = QTableWidget(len(self.vm.starters), 5)
        self.starters.setHorizontalHeaderLabels(["Model", "Download", "VRAM", "Licence", ""])
        self.starters.verticalHeader().setVisible(False)
        self.starters.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, s in enumerate(self.vm.starters):
            name = QTableWidgetItem(s.name)
            name.setToolTip(f"{s.repo_id}{':' + s.file if s.file else ''}\n{s.note}")
            self.starters.setItem(row, 0, name)
            self.starters.setItem(row, 1, QTableWidgetItem(f"about {_human(s.size_bytes)}"))
            self.starters.setItem(row, 2, QTableWidgetItem(
                f"{s.vram_gib:g} GB (runs from {s.min_vram_gib:g})"))
            self.starters.setItem(row, 3, QTableWidgetItem(
                s.licence + (" · gated" if s.gated else "")))
            button = QPushButton("Get…")
            button.clicked.connect(lambda _=False, key=s.key: self.ask_starter(key))
            self.starters.setCellWidget(row, 4, button)
        self.starters.resizeColumnsToContents()
        sl.addWidget(self.starters)
        layout.addWidget(starters)

        any_repo = QGroupBox("Any Hugging Face repository")
        form = QFormLayout(any_repo)
        self.repo = QLineEdit()
        self.repo.setPlaceholderText("org/name, e.g. stabilityai/sdxl-turbo")
        self.file = QLineEdit()
        self.file.setPlaceholderText("optional: one .safetensors file in the repo")
        self.check_btn = QPushButton("Check")
        self.check_btn.clicked.connect(self.ask_repo)
        row = QHBoxLayout()
        row.addWidget(self.repo, 1)
        row.addWidget(self.check_btn)
        token = QPushButton("Access token…")
        token.setToolTip("For gated repos: kept in the OS keyring only")
        token.clicked.connect(self._token)
        row.addWidget(token)
        form.addRow("Repository", row)
        form.addRow("File", self.file)
        layout.addWidget(any_repo)

        self.plan_label = QLabel("")
        self.plan_label.setWordWrap(True)
        self.plan_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.plan_label)
        progress_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setFormat("Idle")
        self.progress.setTextVisible(True)
        self.download_btn = QPushButton("Download")
        self.download_btn.setEnabled(False)
        self.download_btn.clicked.connect(self.start_download)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.cancel_btn.clicked.connect(self.vm.cancel)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.download_btn)
        progress_row.addWidget(self.cancel_btn)
        layout.addLayout(progress_row)

        mine = QGroupBox("Your models and LoRAs")
        ml = QVBoxLayout(mine)
        filters = QHBoxLayout()
        self.family = QComboBox()
        self.family.addItem("All families", "")
        for f in Family:
            self.family.addItem(FAMILIES[f].label, f.value)
        self.family.addItem("Upscalers", "upscaler")
        self.family.currentIndexChanged.connect(self.reload)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search name, path or source")
        self.search.textChanged.connect(self.reload)
        filters.addWidget(self.family)
        filters.addWidget(self.search, 1)
        ml.addLayout(filters)
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["Name", "Family", "Size", "sha256", "Source",
                                              "Last used"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        ml.addWidget(self.table)
        layout.addWidget(mine, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.resize(860, 680)

    # -- registered models ------------------------------------------------------------------

    def reload(self, *_args: object) -> None:
        rows = self.vm.rows(self.family.currentData() or None, self.search.text())
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            used = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.last_used)) \
                if r.last_used else "never"
            label = "LoRA · " + r.family if r.kind == "lora" \
                else "Upscaler · " + r.detail if r.kind == "upscaler" \
                else FAMILIES[Family(r.family)].label
            for col, text in enumerate((r.name, label, _human(r.size), r.sha256[:10],
                                        r.source or "added from disk", used)):
                item = QTableWidgetItem(text)
                if col == 3:
                    item.setToolTip(r.sha256)
                self.table.setItem(i, col, item)
        self.table.resizeColumnsToContents()

    # -- plan, download, cancel -------------------------------------------------------------

    def ask_starter(self, key: str) -> None:
        self._asking(self.vm.plan_starter(key))

    def ask_repo(self) -> None:
        if not self.repo.text().strip():
            self.plan_label.setText("Type a repository id, e.g. stabilityai/sdxl-turbo.")
            return
        self._asking(self.vm.plan(self.repo.text(), file=self.file.text().strip() or None))

    def _asking(self, op: Any) -> None:
        self.plan_label.setText("Asking the hub what this would download…")
        self.download_btn.setEnabled(False)
        op.success(self.show_plan).failure(self._failed).start()

    def show_plan(self, plan: Any) -> None:
        self._plan = plan
        lines = plan.summary()
        text = "<br>".join([*lines[:2], f"{len(plan.files)} files", *lines[-1:]])
        if not plan.enough_space:
            text += "<br><b>Not enough disk space for this download.</b>"
        self.plan_label.setText(text)
        self.download_btn.setEnabled(plan.enough_space and self._op is None)
        self.download_btn.setText(f"Download {_human(plan.needed_bytes)}")

    def start_download(self) -> None:
        if self._plan is None:
            return
        self.download_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("Starting…")
        self._op = self.vm.download(self._plan).success(self._done).failure(self._failed)
        self._op.start()

    def _on_progress(self, p: Any) -> None:
        self.progress.setValue(int(1000 * p.done / max(1, p.total)))
        eta = f"{p.eta_s:.0f} s left" if p.eta_s is not None else ""
        self.progress.setFormat(f"{_human(p.done)} of {_human(p.total)} · "
                                f"{_human(p.speed)}/s · {eta}")

    def _done(self, entry: Any) -> None:
        self._op = None
        self.cancel_btn.setEnabled(False)
        self.progress.setFormat(f"Registered {entry.name}")
        self.progress.setValue(1000)
        self.reload()

    def _failed(self, exc: Exception) -> None:
        self._op = None
        self.cancel_btn.setEnabled(False)
        self.progress.setFormat("Stopped")
        self.plan_label.setText(str(exc) or type(exc).__name__)
        self.download_btn.setEnabled(self._plan is not None and self._plan.enough_space)

    def _token(self) -> None:
        token, ok = QInputDialog.getText(self, "Hugging Face access token",
                                         "Token (kept in the OS keyring only):",
                                         QLineEdit.EchoMode.Password)
        if ok and token.strip():
            try:
                self.vm.store_token(token)
            except Exception as exc:  # TokenError: no usable keyring
                QMessageBox.warning(self, "Token not stored", str(exc))
