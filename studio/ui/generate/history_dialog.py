"""Prompt history: earlier prompts, searchable, for the current model or all of them."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)


class HistoryDialog(QDialog):
    def __init__(self, workspace: Any, model_id: str | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Prompt history")
        self.resize(560, 420)
        self.workspace, self.model_id = workspace, model_id
        self.chosen: Any = None
        layout = QVBoxLayout(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search prompts…")
        self.search.textChanged.connect(self.refresh)
        self.this_model = QCheckBox("Only this model")
        self.this_model.setChecked(model_id is not None)
        self.this_model.setEnabled(model_id is not None)
        self.this_model.toggled.connect(self.refresh)
        self.list = QListWidget()
        self.list.itemDoubleClicked.connect(lambda _i: self.accept())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Use this prompt")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        for w in (self.search, self.this_model, self.list, buttons):
            layout.addWidget(w)
        self.refresh()

    def refresh(self, *_args: object) -> None:
        self.list.clear()
        model = self.model_id if self.this_model.isChecked() else None
        for entry in self.workspace.history(self.search.text(), model):
            text = entry.prompt + (f"\n  − {entry.negative_prompt}"
                                   if entry.negative_prompt else "")
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, entry)
            item.setToolTip(f"used {entry.uses}×")
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def accept(self) -> None:
        item = self.list.currentItem()
        self.chosen = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        super().accept()
