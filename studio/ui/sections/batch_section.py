"""Batch: many images from a prompts × seeds matrix, on the local engine or a Ray cluster.

Binds to :class:`studio.viewmodels.batch.BatchViewModel`; the model's signals come from its
run thread and are re-emitted here through queued Qt signals, so widgets are only touched on
the GUI thread. Nothing here reads SQLite, loads torch or talks to Ray.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ui.context import AppContext
from studio.ui.tasks import run_in_background

STATE_TEXT = {"pending": "Waiting", "running": "Rendering", "storing": "Signing",
              "done": "Done", "failed": "Failed"}


class _Bridge(QObject):
    """psygnal (any thread) -> Qt signals (queued onto the GUI thread)."""

    changed = Signal()
    item_changed = Signal(int)
    progress = Signal(int, int, int, float, object)
    running_changed = Signal(bool)
    failed = Signal(str)


def _eta_text(eta: float | None) -> str:
    if eta is None:
        return "ETA –"
    m, s = divmod(round(eta), 60)
    return f"ETA {m} min {s:02d} s" if m else f"ETA {s} s"


class BatchSection(QWidget):
    def __init__(self, ctx: AppContext, model: Any = None) -> None:
        super().__init__()
        from studio.viewmodels import ViewModels

        self.ctx = ctx
        self.vm = model or ViewModels.of(ctx).batch
        self.bridge = _Bridge(self)
        for name in ("changed", "item_changed", "progress", "running_changed", "failed"):
            getattr(self.vm, name).connect(getattr(self.bridge, name).emit)
        self.bridge.changed.connect(self._reload)
        self.bridge.item_changed.connect(self._update_row)
        self.bridge.progress.connect(self._on_progress)
        self.bridge.running_changed.connect(self._on_running)
        self.bridge.failed.connect(self._on_failed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 32, 32, 32)
        heading = QLabel("Batch")
        heading.setObjectName("sectionHeading")
        layout.addWidget(heading)
        layout.addWidget(QLabel("Every prompt × every seed. Outputs are signed and stored here, "
                                "wherever they are rendered."))

        form = QFormLayout()
        self.model_box = QComboBox()
        form.addRow("Model", self.model_box)
        self.prompts = QPlainTextEdit()
        self.prompts.setPlaceholderText("One prompt per line")
        self.prompts.setFixedHeight(72)
        form.addRow("Prompts", self.prompts)
        row = QHBoxLayout()
        self.seeds = QLineEdit("1-12")
        self.seeds.setToolTip("e.g. 1-12 or 1,5,9")
        self.steps = QSpinBox()
        self.steps.setRange(1, 500)
        self.steps.setValue(ctx.settings.generation.default_steps)
        self.size = QLineEdit(f"{ctx.settings.generation.default_width}x"
                              f"{ctx.settings.generation.default_height}")
        for label, w in (("Seeds", self.seeds), ("Steps", self.steps), ("Size", self.size)):
            row.addWidget(QLabel(label))
            row.addWidget(w)
        form.addRow(row)
        backend = QHBoxLayout()
        self.backend_box = QComboBox()
        self.backend_box.addItems(["Local engine", "Ray cluster"])
        self.ray_address = QLineEdit()
        self.ray_address.setPlaceholderText("local, or ray://head:10001")
        self.ray_address.setEnabled(False)
        self.backend_box.currentIndexChanged.connect(
            lambda i: self.ray_address.setEnabled(i == 1))
        backend.addWidget(self.backend_box)
        backend.addWidget(self.ray_address, 1)
        form.addRow("Render on", backend)
        layout.addLayout(form)

        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start batch")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.retry_button = QPushButton("Retry failed")
        self.start_button.clicked.connect(self._start)
        self.cancel_button.clicked.connect(self.vm.cancel)
        self.retry_button.clicked.connect(self.vm.retry_failed)
        for b in (self.start_button, self.cancel_button, self.retry_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.progress_bar = QProgressBar()
        self.status = QLabel("No batch yet.")
        self.status.setWordWrap(True)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["#", "Prompt", "Seed", "State"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        for col in (0, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(False)
        self.grid = QListWidget()
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setIconSize(QSize(96, 96))
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setSpacing(6)
        split.addWidget(self.table)
        split.addWidget(self.grid)
        split.setSizes([420, 520])
        layout.addWidget(split, 1)

        self._on_running(False)
        run_in_background(ctx.runner, self.vm.models, self._set_models, self._on_failed, self,
                          label="Loading models")

    # -- input ------------------------------------------------------------------------------

    def _set_models(self, models: list[tuple[str, str]]) -> None:
        self.model_box.clear()
        for model_id, label in models:
            self.model_box.addItem(label, model_id)
        if not models:
            self.model_box.addItem("No models yet: add one in Generate", "")

    def _start(self) -> None:
        ray = self.ray_address.text().strip() or "local" \
            if self.backend_box.currentIndex() == 1 else None
        self.vm.start(model_id=self.model_box.currentData() or "",
                      prompts=self.prompts.toPlainText().splitlines(),
                      seeds=self.seeds.text(), steps=self.steps.value(),
                      size=self.size.text().strip() or None, ray_address=ray)

    # -- bound state ------------------------------------------------------------------------

    def _reload(self) -> None:
        rows = self.vm.rows
        self.table.setRowCount(len(rows))
        self.grid.clear()
        for i in range(len(rows)):
            self._update_row(i)
        done, failed, total = self.vm.counts()
        self._show_counts(done, failed, total)

    def _update_row(self, idx: int) -> None:
        rows = self.vm.rows
        if idx >= len(rows) or idx >= self.table.rowCount():
            return
        r = rows[idx]
        state = STATE_TEXT.get(str(r.state), str(r.state))
        for col, text in enumerate((str(r.idx + 1), r.prompt, str(r.seed), state)):
            cell = QTableWidgetItem(text)
            if r.error:
                cell.setToolTip(r.error)
            self.table.setItem(idx, col, cell)
        if r.thumbnail and not self._grid_has(idx):
            pix = QPixmap()
            pix.loadFromData(r.thumbnail, "PNG")
            item = QListWidgetItem(QIcon(pix), f"#{r.idx + 1} · {r.seed}")
            item.setData(Qt.ItemDataRole.UserRole, idx)
            item.setToolTip(f"{r.prompt}\nseed {r.seed}")
            self.grid.addItem(item)
        if not self.vm.running:
            self._show_counts(*self.vm.counts())

    def _grid_has(self, idx: int) -> bool:
        return any(self.grid.item(i).data(Qt.ItemDataRole.UserRole) == idx
                   for i in range(self.grid.count()))

    def _show_counts(self, done: int, failed: int, total: int) -> None:
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done + failed)
        if total:
            self.status.setText(f"{done} of {total} done · {failed} failed")
        self.retry_button.setEnabled(failed > 0 and not self.vm.running)

    def _on_progress(self, done: int, failed: int, total: int, rate: float,
                     eta: float | None) -> None:
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done + failed)
        self.status.setText(f"{done} of {total} done · {failed} failed · {rate:.2f} items/s · "
                            f"{_eta_text(eta)}")

    def _on_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.retry_button.setEnabled(not running and self.vm.counts()[1] > 0)

    def _on_failed(self, message: str) -> None:
        self.status.setText(message)

    def shutdown(self) -> None:
        self.vm.shutdown()


def build(ctx: AppContext) -> QWidget:
    return BatchSection(ctx)
