"""Generate: model, prompt and settings on the left; preview, queue and results on the right.

The app's one engine (its worker thread owns the pipeline) is reached through the generation
view-model; its events arrive on the GUI thread as the view-model's ``event``.
torch and diffusers load in that worker on the first job, never at window start.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImageReader, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.generation.engine import (
    DeviceKnown,
    JobFinished,
    JobPreview,
    JobProgress,
    JobStarted,
    JobState,
    QueueChanged,
)
from studio.core.generation.errors import GenerationError
from studio.core.generation.families import FAMILIES
from studio.core.generation.registry import ModelEntry
from studio.core.generation.request import MAX_SEED, GenerationRequest
from studio.core.generation.schedulers import SCHEDULERS
from studio.ui.context import AppContext
from studio.ui.generate.bridge import pil_to_qimage
from studio.ui.tasks import run_in_background

log = logging.getLogger(__name__)

SIZES = [(512, 512), (768, 768), (1024, 1024), (512, 768), (768, 512), (832, 1216),
         (1216, 832), (64, 64)]
THUMB = 112
SEED_ROLE = Qt.ItemDataRole.UserRole + 1
PREVIEW = 256


class GenerateSection(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.gs = ctx.settings.generation
        # The app's one engine (signing every output before it is stored); the composition
        # root announces finished assets to every view.
        from studio.ui.dispatch import connect
        from studio.viewmodels import ViewModels

        self.vm = ViewModels.of(ctx).generation
        self.engine = self.vm.engine
        connect(self.vm.event, self._on_event, self)
        connect(self.vm.device_status, self._on_device_status, self)
        self._running: int | None = None
        self._seeds: dict[int, int] = {}  # job id -> first seed (item i used seed + i)
        self._busy = False  # adding a model or building the demo
        self._build()
        self._reload_models(select=self.gs.default_model)
        self.vm.check_device().start()  # which device will run and why (no torch import)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QHBoxLayout(self)
        outer.setContentsMargins(24, 24, 24, 24)
        left = QVBoxLayout()
        heading = QLabel("Generate")
        heading.setObjectName("sectionHeading")
        left.addWidget(heading)

        model_row = QHBoxLayout()
        self.model = QComboBox()
        self.model.setMinimumWidth(260)
        self.model.currentIndexChanged.connect(self._model_changed)
        self.add_model = QPushButton("Add model…")
        menu = QMenu(self.add_model)
        menu.addAction("Diffusers folder…", self._add_folder)
        menu.addAction("Single .safetensors file…", self._add_file)
        self.add_model.setMenu(menu)
        self.demo = QPushButton("Create demo model")
        self.demo.setToolTip("Writes a tiny random-weight model (it produces noise) so you can "
                             "try the studio without a download")
        self.demo.clicked.connect(self._create_demo)
        model_row.addWidget(self.model, 1)
        model_row.addWidget(self.add_model)
        model_row.addWidget(self.demo)
        self.model_note = QLabel()
        self.model_note.setWordWrap(True)

        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText("Describe the image… (Ctrl+Enter generates)")
        self.prompt.setFixedHeight(90)
        self.negative = QPlainTextEdit()
        self.negative.setPlaceholderText("What to avoid (optional)")
        self.negative.setFixedHeight(50)

        form_box = QGroupBox("Settings")
        form = QFormLayout(form_box)
        self.size = QComboBox()
        for w, h in SIZES:
            self.size.addItem(f"{w} × {h}", f"{w}x{h}")  # strings: Qt keeps them as-is
        self.steps = QSpinBox()
        self.steps.setRange(1, 150)
        self.steps.setValue(self.gs.default_steps)
        self.guidance = QDoubleSpinBox()
        self.guidance.setRange(0.0, 30.0)
        self.guidance.setSingleStep(0.5)
        self.guidance.setValue(self.gs.default_guidance)
        self.scheduler = QComboBox()
        self.scheduler.addItems(list(SCHEDULERS))
        self.scheduler.setCurrentText(self.gs.default_scheduler)
        seed_row = QHBoxLayout()
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(random.randrange(2**31))
        self.random_seed = QCheckBox("Random each time")
        self.random_seed.setChecked(True)
        self.random_seed.toggled.connect(lambda on: self.seed.setEnabled(not on))
        self.seed.setEnabled(False)
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.random_seed)
        self.batch = QSpinBox()
        self.batch.setRange(1, 16)
        form.addRow("Size", self.size)
        form.addRow("Steps", self.steps)
        form.addRow("Guidance", self.guidance)
        form.addRow("Sampler", self.scheduler)
        form.addRow("Seed", seed_row)
        form.addRow("Batch count", self.batch)

        buttons = QHBoxLayout()
        self.generate_btn = QPushButton("Generate")
        self.generate_btn.setToolTip("Ctrl+Enter")
        self.generate_btn.setDefault(True)
        self.generate_btn.clicked.connect(self.generate)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setToolTip("Esc: stop the running job")
        self.cancel_btn.clicked.connect(self.cancel)
        self.cancel_btn.setEnabled(False)
        buttons.addWidget(self.generate_btn, 1)
        buttons.addWidget(self.cancel_btn)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("Idle")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        for w in (QLabel("Model"),):
            left.addWidget(w)
        left.addLayout(model_row)
        left.addWidget(self.model_note)
        self.device_note = QLabel("Checking the GPU…")
        self.device_note.setObjectName("deviceStatus")
        self.device_note.setWordWrap(True)
        left.addWidget(self.device_note)
        left.addWidget(QLabel("Prompt"))
        left.addWidget(self.prompt)
        left.addWidget(QLabel("Negative prompt"))
        left.addWidget(self.negative)
        left.addWidget(form_box)
        left.addLayout(buttons)
        left.addWidget(self.progress)
        left.addWidget(self.status)
        left.addStretch(1)

        right = QVBoxLayout()
        self.preview = QLabel("The preview appears here while an image is made.")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setFixedSize(PREVIEW, PREVIEW)
        self.preview.setWordWrap(True)
        self.preview.setStyleSheet("border: 1px solid palette(mid); border-radius: 6px;")
        right.addWidget(QLabel("Preview"))
        right.addWidget(self.preview)
        right.addWidget(QLabel("Queue"))
        self.queue = QListWidget()
        self.queue.setMaximumHeight(130)
        self.queue.currentRowChanged.connect(lambda _r: self._update_buttons())
        self.remove_btn = QPushButton("Remove from queue")
        self.remove_btn.setToolTip("Delete: remove the selected waiting job")
        self.remove_btn.clicked.connect(self.remove_selected)
        right.addWidget(self.queue)
        right.addWidget(self.remove_btn)
        right.addWidget(QLabel("Latest results (also in the Library)"))
        self.results = QListWidget()
        self.results.setViewMode(QListWidget.ViewMode.IconMode)
        self.results.setIconSize(QSize(THUMB, THUMB))
        self.results.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.results.setMovement(QListWidget.Movement.Static)
        self.results.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.results.customContextMenuRequested.connect(self._result_menu)
        self.results.itemDoubleClicked.connect(
            lambda item: self.open_in_library(item.data(Qt.ItemDataRole.UserRole)))
        right.addWidget(self.results, 1)

        outer.addLayout(left, 3)
        outer.addSpacing(16)
        outer.addLayout(right, 2)

        QShortcut(QKeySequence("Ctrl+Return"), self, self.generate)
        QShortcut(QKeySequence("Ctrl+Enter"), self, self.generate)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancel)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.queue, self.remove_selected)

    # -- models -----------------------------------------------------------------------------

    def _reload_models(self, select: str = "") -> None:
        entries = self.vm.reload_models()
        self.model.blockSignals(True)
        self.model.clear()
        for e in entries:
            self.model.addItem(e.label, e.id)
            self.model.setItemData(self.model.count() - 1, f"{e.path}\nsha256 {e.sha256}",
                                   Qt.ItemDataRole.ToolTipRole)
        if not entries:
            self.model.addItem("No model yet: add one or create the demo model", None)
        index = self.model.findData(select) if select else -1
        self.model.setCurrentIndex(index if index >= 0 else 0)
        self.model.blockSignals(False)
        self.demo.setVisible(not entries)
        self._model_changed()

    def current_model(self) -> ModelEntry | None:
        model_id = self.model.currentData()
        return self.vm.model(model_id)  # cached: asked on every engine event

    def _model_changed(self, *_args: object) -> None:
        entry = self.current_model()
        if entry is None:
            self.model_note.setText("")
        else:
            info = FAMILIES[entry.family]
            note = f"{info.label} · {entry.kind.value.replace('_', ' ')}"
            if "random weights" in entry.name:
                note += " · produces noise (demo)"
                self._select_size(64, 64)
            else:
                self._select_size(info.default_size, info.default_size)
            if info.turbo:
                self.steps.setValue(4)
                self.guidance.setValue(0.0)
            self.model_note.setText(note)
        self._update_buttons()

    def _select_size(self, w: int, h: int) -> None:
        index = self.size.findData(f"{w}x{h}")
        if index >= 0:
            self.size.setCurrentIndex(index)

    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a diffusers model folder")
        if folder:
            self.add_model_path(Path(folder))

    def _add_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a checkpoint", "",
                                              "Safetensors checkpoints (*.safetensors)")
        if path:
            self.add_model_path(Path(path))

    def add_model_path(self, path: Path) -> None:
        """Validate and hash in the background (a checkpoint can be many GB)."""
        self._set_busy(True, f"Adding {path.name}: checking and hashing it once…")
        self.vm.add_model(path).success(self._model_added).failure(
            lambda exc: self._task_failed(str(exc) or type(exc).__name__)).start()

    def _create_demo(self) -> None:
        from studio.core.generation.demo import DEMO_NAME, build_demo_pipeline

        target = self.ctx.paths.data_dir / "models" / "demo-model"
        registry = self.engine.registry

        def build() -> ModelEntry:
            if not (target / "model_index.json").is_file():
                build_demo_pipeline(target)
            return registry.add(target, name=DEMO_NAME)

        self._set_busy(True, "Writing the demo model (tiny, random weights)…")
        run_in_background(self.ctx.runner, build, self._model_added, self._task_failed, self)

    def _model_added(self, entry: ModelEntry) -> None:
        self._set_busy(False, f"Model ready: {entry.label}.")
        self._reload_models(select=entry.id)

    def _task_failed(self, message: str) -> None:
        self._set_busy(False, "")
        QMessageBox.warning(self, "Model not added", message)

    def _set_busy(self, busy: bool, text: str) -> None:
        self._busy = busy
        self.status.setText(text)
        if busy:
            self.progress.setRange(0, 0)
        elif self._running is None:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("Idle")
        self._update_buttons()

    # -- generate, cancel, queue ------------------------------------------------------------

    def build_request(self) -> GenerationRequest:
        entry = self.current_model()
        if entry is None:
            raise GenerationError("Choose a model first: add one, or create the demo model.")
        if self.random_seed.isChecked():
            self.seed.setValue(random.randrange(2**31))
        w, h = (int(v) for v in self.size.currentData().split("x"))
        return GenerationRequest(
            model_id=entry.id, model_sha256=entry.sha256, model_name=entry.name,
            family=str(entry.family), prompt=self.prompt.toPlainText().strip(),
            negative_prompt=self.negative.toPlainText().strip(),
            seed=min(self.seed.value(), MAX_SEED), steps=self.steps.value(),
            guidance=self.guidance.value(), width=w, height=h,
            scheduler=self.scheduler.currentText(), batch_size=self.batch.value(),
        ).validate()

    def generate(self) -> int | None:
        if not self.generate_btn.isEnabled():
            return None
        try:
            request = self.build_request()
            job_id = self.vm.enqueue(request)
        except GenerationError as exc:
            self.status.setText(str(exc))
            return None
        self._seeds[job_id] = request.seed
        self._remember_choices()
        self.status.setText("")
        return job_id

    def _remember_choices(self) -> None:
        gs = self.gs
        gs.default_model = self.model.currentData() or ""
        gs.default_steps = self.steps.value()
        gs.default_guidance = self.guidance.value()
        gs.default_scheduler = self.scheduler.currentText()
        try:
            self.ctx.save_settings()
        except OSError as exc:
            self.status.setText(f"Settings could not be saved: {exc}")

    def cancel(self) -> None:
        if self._running is not None and self.vm.cancel(self._running):
            self.progress.setFormat("Cancelling…")

    def remove_selected(self) -> None:
        item = self.queue.currentItem()
        if item is not None:
            self.remove_job(item.data(Qt.ItemDataRole.UserRole))

    def remove_job(self, job_id: int) -> bool:
        """Remove waiting job ``job_id`` (by id: rows move as jobs start and finish)."""
        if job_id == self._running:
            return False
        return self.vm.remove(job_id)

    def _update_buttons(self) -> None:
        has_model = self.current_model() is not None
        self.generate_btn.setEnabled(has_model and not self._busy)
        self.add_model.setEnabled(not self._busy)
        self.demo.setEnabled(not self._busy)
        self.cancel_btn.setEnabled(self._running is not None)
        item = self.queue.currentItem()
        self.remove_btn.setEnabled(item is not None and item.data(Qt.ItemDataRole.UserRole)
                                   != self._running)

    def _on_device_status(self, line: str, needs_action: bool) -> None:
        self.device_note.setText(("⚠ " if needs_action else "") + line)
        self.device_note.setStyleSheet("color: palette(link);" if needs_action else "")

    # -- engine events (GUI thread) ---------------------------------------------------------

    def _on_event(self, ev: object) -> None:
        if isinstance(ev, DeviceKnown):
            window = self.window()
            if hasattr(window, "set_status"):
                window.set_status("device", f"Device: {ev.label}")
        elif isinstance(ev, JobStarted):
            self._running = ev.job_id
            self.progress.setRange(0, 0)
            self.progress.setFormat("Loading the model…")
        elif isinstance(ev, JobProgress):
            self.progress.setRange(0, ev.total)
            self.progress.setValue(ev.done)
            self.progress.setFormat(f"Step {ev.done} of {ev.total}")
        elif isinstance(ev, JobPreview):
            pixmap = QPixmap.fromImage(pil_to_qimage(ev.image))
            self.preview.setPixmap(pixmap.scaled(PREVIEW, PREVIEW,
                                                 Qt.AspectRatioMode.KeepAspectRatio))
        elif isinstance(ev, JobFinished):
            self._finished(ev)
        elif isinstance(ev, QueueChanged):
            self._show_queue()
        self._update_buttons()

    def _finished(self, ev: JobFinished) -> None:
        if ev.job_id != self._running:
            return  # a waiting job was removed
        self._running = None
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if ev.state is JobState.DONE else 0)
        if ev.state is JobState.DONE:
            self.progress.setFormat(f"Done in {ev.seconds:.1f} s")
            self.status.setText(f"{len(ev.assets)} image(s) added to the library.")
            seed = self._seeds.pop(ev.job_id, None)
            for i, asset in enumerate(ev.assets):
                self._add_thumbnail(asset, None if seed is None else seed + i)
            if ev.assets:  # the final image, not the last latent preview
                self._show_final(ev.assets[-1])
        elif ev.state is JobState.CANCELLED:
            self.progress.setFormat("Cancelled")
        else:
            self.progress.setFormat("Failed")
            self.status.setText(ev.error)

    def _scaled(self, asset, edge: int) -> QPixmap:
        reader = QImageReader(str(self.ctx.library.path_of(asset)))
        size = reader.size()
        if size.isValid():
            reader.setScaledSize(size.scaled(edge, edge, Qt.AspectRatioMode.KeepAspectRatio))
        return QPixmap.fromImage(reader.read())

    def _show_final(self, asset) -> None:
        self.preview.setPixmap(self._scaled(asset, PREVIEW))
        self.preview.setProperty("asset_id", asset.id)

    def _add_thumbnail(self, asset, seed: int | None = None) -> None:
        item = QListWidgetItem(QIcon(self._scaled(asset, THUMB)), f"#{asset.id}")
        item.setData(Qt.ItemDataRole.UserRole, asset.id)
        item.setData(SEED_ROLE, seed)
        item.setToolTip(f"{asset.title}\nsha256 {asset.sha256}")
        self.results.insertItem(0, item)
        while self.results.count() > 24:
            self.results.takeItem(self.results.count() - 1)

    # -- result thumbnails ------------------------------------------------------------------

    def result_menu(self, item: QListWidgetItem) -> QMenu:
        asset_id = item.data(Qt.ItemDataRole.UserRole)
        seed = item.data(SEED_ROLE)
        menu = QMenu(self)
        menu.addAction("Open in &Library", lambda: self.open_in_library(asset_id))
        reuse = menu.addAction(f"Reuse &seed {seed}" if seed is not None else "Reuse seed",
                               lambda: self.reuse_seed(seed))
        reuse.setEnabled(seed is not None)
        menu.addAction("&Mint…", lambda: self.mint(asset_id))
        menu.addAction("&Export…", lambda: self.export(asset_id))
        return menu

    def _result_menu(self, pos) -> None:
        item = self.results.itemAt(pos)
        if item is not None:
            self.result_menu(item).popup(self.results.viewport().mapToGlobal(pos))

    def open_in_library(self, asset_id: int) -> None:
        window = self.window()
        if hasattr(window, "show_section"):
            window.show_section("library")
            page = window.page("library")
            if hasattr(page, "select_asset"):
                page.select_asset(asset_id)

    def reuse_seed(self, seed: int | None) -> None:
        if seed is None:
            return
        self.random_seed.setChecked(False)
        self.seed.setValue(seed)

    def mint(self, asset_id: int):
        from studio.ui.mint_dialog import open_mint_dialog

        asset = self.ctx.library.get(asset_id)
        return open_mint_dialog(self.ctx, asset, self) if asset is not None else None

    def export(self, asset_id: int) -> None:
        from PySide6.QtWidgets import QFileDialog

        from studio.core.importing.export import export_name

        asset = self.ctx.library.get(asset_id)
        if asset is None:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Export", export_name(asset))
        if not name:
            return
        source = self.ctx.library.path_of(asset)

        def copy() -> str:
            import shutil

            shutil.copyfile(source, name)
            return name

        run_in_background(self.ctx.runner, copy, lambda n: self.status.setText(f"Exported {n}"),
                          lambda m: self.status.setText(f"Export failed: {m}"), self)

    def _show_queue(self) -> None:
        # Events queued from the worker can arrive after newer ones: read the queue afresh.
        selected = self.queue.currentItem()
        keep = selected.data(Qt.ItemDataRole.UserRole) if selected else None
        self.queue.clear()
        for job_id, state, prompt in self.vm.queue():
            label = "▶ running" if state == "running" else "waiting"
            item = QListWidgetItem(f"{label}: {prompt[:60]}")
            item.setData(Qt.ItemDataRole.UserRole, job_id)
            self.queue.addItem(item)
            if job_id == keep:
                self.queue.setCurrentItem(item)

    def shutdown(self) -> None:
        self.vm.detach()
        self.engine.shutdown(timeout=5)


def build(ctx: AppContext) -> QWidget:
    return GenerateSection(ctx)
