"""Generate, image first: a large canvas (fit, 100 %, zoom, pan; the preview streams into it,
the final image replaces it) with the edit tools (img2img strength, mask painting for inpaint,
outpaint margins, upscale, compare) above it and the session's results in a strip below; the
model, prompt and settings in a collapsible side panel (drop an A1111 / studio PNG there to
restore its settings).

The app's one engine (its worker thread owns the pipeline) is reached through the generation
view-model; its events arrive on the GUI thread as the view-model's ``event``.
torch and diffusers load in that worker on the first job, never at window start.
"""

from __future__ import annotations

import contextlib
import logging
import random
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QSize, Qt
from PySide6.QtGui import QIcon, QImage, QImageReader, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
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
    QScrollArea,
    QSlider,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.generation.errors import GenerationError
from studio.core.generation.events import (
    DeviceKnown,
    JobFinished,
    JobPreview,
    JobProgress,
    JobStarted,
    JobState,
    JobStatus,
    QueueChanged,
)
from studio.core.generation.families import FAMILIES
from studio.core.generation.registry import ModelEntry
from studio.core.generation.request import MAX_SEED, GenerationRequest
from studio.core.generation.schedulers import SCHEDULERS, UNET_PIPELINES
from studio.ui.context import AppContext
from studio.ui.generate.bridge import pil_to_qimage
from studio.ui.generate.canvas import ASSET_MIME, CanvasView
from studio.ui.generate.lora_box import LoraBox
from studio.ui.tasks import run_in_background

log = logging.getLogger(__name__)

SIZES = [(512, 512), (768, 768), (1024, 1024), (512, 768), (768, 512), (832, 1216),
         (1216, 832), (64, 64)]
THUMB = 96
SEED_ROLE = Qt.ItemDataRole.UserRole + 1
MODE_LABELS = {"generate": "Generate", "img2img": "Image to image", "inpaint": "Inpaint",
               "outpaint": "Outpaint"}


class ResultsStrip(QListWidget):
    """The session's results in a row; items drag onto the canvas as library assets."""

    def mimeData(self, items) -> QMimeData:
        mime = QMimeData()
        if items:
            mime.setData(ASSET_MIME, str(items[0].data(Qt.ItemDataRole.UserRole)).encode())
        return mime


class SettingsPanel(QWidget):
    """The side panel; a PNG dropped here restores its settings (studio credentials or an
    A1111 / ComfyUI ``parameters`` chunk) instead of being imported."""

    def __init__(self, on_drop) -> None:
        super().__init__()
        self._on_drop = on_drop
        self.setAcceptDrops(True)
        self.setProperty("ownsFileDrops", True)

    def dragEnterEvent(self, event) -> None:
        from studio.ui.drop import local_paths

        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        from studio.ui.drop import local_paths

        paths = local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self._on_drop(Path(paths[0]))


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
        self.ws = ViewModels.of(ctx).workspace
        # The engine (worker thread, library, PIL, the signer) is built on first use: the
        # first Generate, not the section's first show.
        self.vm.attach()
        connect(self.vm.event, self._on_event, self)
        connect(self.vm.device_status, self._on_device_status, self)
        self._running: int | None = None
        self._seeds: dict[int, int] = {}  # job id -> first seed (item i used seed + i)
        self._busy = False  # adding a model or building the demo
        self._warming = False  # the engine is being (or was) built in the background
        self._build()
        self._reload_models(select=self.gs.default_model)
        self.vm.check_device().start()  # which device will run and why (no torch import)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        from studio.viewmodels import ViewModels

        outer = QHBoxLayout(self)
        outer.setContentsMargins(12, 12, 12, 12)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(self.splitter)

        # -- the side panel: model, prompt, settings, queue ----------------------------------
        self.side = SettingsPanel(self.restore_settings_from_file)
        left = QVBoxLayout(self.side)
        left.setContentsMargins(0, 0, 8, 0)
        heading = QLabel("Generate")
        heading.setObjectName("sectionHeading")
        left.addWidget(heading)

        model_row = QHBoxLayout()
        self.model = QComboBox()
        self.model.setMinimumWidth(140)
        self.model.currentIndexChanged.connect(self._model_changed)
        self.add_model = QPushButton("Add model…")
        menu = QMenu(self.add_model)
        menu.addAction("Diffusers folder…", self._add_folder)
        menu.addAction("Single .safetensors file…", self._add_file)
        menu.addAction("Upscaler (ESRGAN family, .safetensors / .pth)…", self._add_upscaler)
        self.add_model.setMenu(menu)
        self.demo = QPushButton("Create demo model")
        self.demo.setToolTip("Writes a tiny random-weight model (it produces noise) so you can "
                             "try the studio without a download")
        self.demo.clicked.connect(self._create_demo)
        self.manage_models = QPushButton("Models…")
        self.manage_models.setToolTip("Download a model (starter list or any Hugging Face repo) "
                                      "and see your models and LoRAs")
        self.manage_models.clicked.connect(self.open_models)
        model_row.addWidget(self.model, 1)
        model_row.addWidget(self.add_model)
        model_row.addWidget(self.manage_models)
        self.model_note = QLabel()
        self.model_note.setWordWrap(True)

        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText("Describe the image… (Ctrl+Enter generates)")
        self.prompt.textChanged.connect(self._warm_engine)
        self.prompt.setFixedHeight(90)
        self.negative = QPlainTextEdit()
        self.negative.setPlaceholderText("What to avoid (optional)")
        self.negative.setFixedHeight(50)
        prompt_row = QHBoxLayout()
        prompt_row.addWidget(QLabel("Prompt"), 1)
        self.history_btn = QPushButton("History…")
        self.history_btn.setToolTip("Earlier prompts, searchable (Ctrl+H)")
        self.history_btn.clicked.connect(self.show_history)
        prompt_row.addWidget(self.history_btn)

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
        self.queue = QListWidget()
        self.queue.setMaximumHeight(110)
        self.queue.currentRowChanged.connect(lambda _r: self._update_buttons())
        self.remove_btn = QPushButton("Remove from queue")
        self.remove_btn.setToolTip("Delete: remove the selected waiting job")
        self.remove_btn.clicked.connect(self.remove_selected)

        left.addWidget(QLabel("Model"))
        left.addLayout(model_row)
        left.addWidget(self.demo)
        left.addWidget(self.model_note)
        self.device_note = QLabel("Checking the GPU…")
        self.device_note.setObjectName("deviceStatus")
        self.device_note.setWordWrap(True)
        left.addWidget(self.device_note)
        self.setup_gpu = QPushButton("Set up PyTorch for this GPU…")
        self.setup_gpu.setVisible(False)
        self.setup_gpu.clicked.connect(self._open_setup)
        left.addWidget(self.setup_gpu)
        left.addLayout(prompt_row)
        left.addWidget(self.prompt)
        left.addWidget(QLabel("Negative prompt"))
        left.addWidget(self.negative)
        left.addWidget(form_box)
        self.lora_box = LoraBox(ViewModels.of(self.ctx).loras, self)
        left.addWidget(self.lora_box)
        left.addLayout(buttons)
        left.addWidget(self.progress)
        left.addWidget(self.status)
        left.addWidget(QLabel("Queue"))
        left.addWidget(self.queue)
        left.addWidget(self.remove_btn)
        left.addStretch(1)
        self.side_scroll = QScrollArea()
        self.side_scroll.setWidget(self.side)
        self.side_scroll.setWidgetResizable(True)
        # As wide as the panel's widest row needs (no sideways scrolling, nothing clipped).
        self.side_scroll.setMinimumWidth(self.side.minimumSizeHint().width()
                                         + self.side_scroll.verticalScrollBar().sizeHint().width())
        self.side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side_scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        # -- the workspace: edit tools, canvas, results -------------------------------------
        center = QWidget()
        col = QVBoxLayout(center)
        col.setContentsMargins(8, 0, 0, 0)
        tools = QHBoxLayout()
        self.toggle_side = QToolButton()
        self.toggle_side.setText("◀ Settings")
        self.toggle_side.setCheckable(True)
        self.toggle_side.setToolTip("Hide or show the settings panel (Ctrl+B)")
        self.toggle_side.toggled.connect(self.set_settings_hidden)
        tools.addWidget(self.toggle_side)
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[str, QToolButton] = {}
        for mode, label in MODE_LABELS.items():
            b = QToolButton()
            b.setText(label)
            b.setCheckable(True)
            self.mode_group.addButton(b)
            self.mode_buttons[mode] = b
            b.clicked.connect(lambda _c=False, m=mode: self.set_mode(m))
            tools.addWidget(b)
        self.mode_buttons["generate"].setChecked(True)
        tools.addStretch(1)
        col.addLayout(tools)
        # Source and strength on a row of their own, so the window still fits at 1024 px wide.
        source_row = QHBoxLayout()
        self.strength_label = QLabel("Strength 0.75")
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(1, 100)
        self.strength.setValue(75)
        self.strength.setMaximumWidth(160)
        self.strength.setToolTip("How much of the source is redone (1.0: all of it)")
        self.strength.valueChanged.connect(self._strength_changed)
        self.strength.setMinimumWidth(100)
        self.source_label = QLabel("No source image")
        self.clear_source_btn = QPushButton("Clear source")
        self.clear_source_btn.clicked.connect(self.clear_source)
        source_row.addWidget(self.source_label)
        source_row.addWidget(self.clear_source_btn)
        source_row.addStretch(1)
        source_row.addWidget(self.strength_label)
        source_row.addWidget(self.strength)
        col.addLayout(source_row)

        self.mask_tools = QWidget()
        mt = QHBoxLayout(self.mask_tools)
        mt.setContentsMargins(0, 0, 0, 0)
        self.brush_btn = QToolButton()
        self.brush_btn.setText("Brush (B)")
        self.eraser_btn = QToolButton()
        self.eraser_btn.setText("Eraser (E)")
        brush_group = QButtonGroup(self)
        for b in (self.brush_btn, self.eraser_btn):
            b.setCheckable(True)
            brush_group.addButton(b)
            mt.addWidget(b)
        self.brush_btn.setChecked(True)
        self.brush_btn.clicked.connect(lambda: self.set_erasing(False))
        self.eraser_btn.clicked.connect(lambda: self.set_erasing(True))
        self.brush_size = QSpinBox()
        self.brush_size.setRange(1, 512)
        self.brush_size.setValue(self.ws.mask.brush)
        self.brush_size.setPrefix("Size ")
        self.brush_size.valueChanged.connect(lambda v: setattr(self.ws.mask, "brush", v))
        self.feather = QSpinBox()
        self.feather.setRange(0, 64)
        self.feather.setValue(self.ws.mask.feather)
        self.feather.setPrefix("Feather ")
        self.feather.valueChanged.connect(lambda v: setattr(self.ws.mask, "feather", v))
        mt.addWidget(self.brush_size)
        mt.addWidget(self.feather)
        for text, slot, tip in (("Clear", self.ws.mask.clear, ""),
                                ("Invert", self.ws.mask.invert, ""),
                                ("Undo", self.ws.mask.undo, "Ctrl+Z"),
                                ("Redo", self.ws.mask.redo, "Ctrl+Shift+Z")):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(lambda _c=False, f=slot: self._mask_action(f))
            mt.addWidget(b)
        mt.addStretch(1)
        self.mask_tools.setToolTip("On the canvas: left button paints, right button erases, "
                                   "middle button pans, the wheel zooms; [ and ] change the "
                                   "brush size")
        col.addWidget(self.mask_tools)

        self.outpaint_tools = QWidget()
        ot = QHBoxLayout(self.outpaint_tools)
        ot.setContentsMargins(0, 0, 0, 0)
        ot.addWidget(QLabel("Extend by (pixels):"))
        self.margin_boxes: list[QSpinBox] = []
        for side in ("Left", "Top", "Right", "Bottom"):
            box = QSpinBox()
            box.setRange(0, 2048)
            box.setSingleStep(64)
            box.setPrefix(f"{side} ")
            box.valueChanged.connect(self._margins_changed)
            self.margin_boxes.append(box)
            ot.addWidget(box)
        ot.addStretch(1)
        col.addWidget(self.outpaint_tools)

        self.canvas = CanvasView()
        self.canvas.set_mask_model(self.ws.mask)
        self.canvas.dropped.connect(self._canvas_dropped)
        self.preview = self.canvas  # the preview streams into the canvas
        col.addWidget(self.canvas, 1)

        view_row = QHBoxLayout()
        for text, slot, tip in (("Fit", self.canvas.fit, "F"),
                                ("100 %", self.canvas.actual_size, "1"),
                                ("−", lambda: self.canvas.zoom_by(1 / 1.25), "-"),
                                ("+", lambda: self.canvas.zoom_by(1.25), "+")):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            view_row.addWidget(b)
        self.zoom_label = QLabel("fit")
        self.canvas.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        view_row.addWidget(self.zoom_label)
        view_row.addStretch(1)
        self.compare_mode = QComboBox()
        self.compare_mode.addItem("No compare", "off")
        self.compare_mode.addItem("Slider", "slider")
        self.compare_mode.addItem("Side by side", "side")
        self.compare_mode.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.compare_mode.setMinimumWidth(self.compare_mode.sizeHint().width())  # never clipped
        self.compare_mode.setToolTip("Compare the canvas with the source (C)")
        self.compare_mode.currentIndexChanged.connect(lambda _i: self._update_compare())
        view_row.addWidget(self.compare_mode)
        self.upscale_btn = QPushButton("Upscale")
        self.upscale_btn.setToolTip("Upscale the image on the canvas into a new signed asset")
        self.upscale_menu = QMenu(self.upscale_btn)
        self.upscale_menu.aboutToShow.connect(self._fill_upscale_menu)
        self.upscale_btn.setMenu(self.upscale_menu)
        self.reuse_btn = QPushButton("Reuse")
        self.reuse_btn.setToolTip("Reuse settings: restore the settings the image on the canvas "
                                  "was made with")
        self.reuse_btn.clicked.connect(lambda: self.reuse_settings(self.canvas_asset_id()))
        view_row.addWidget(self.reuse_btn)
        view_row.addWidget(self.upscale_btn)
        col.addLayout(view_row)

        results_hint = QLabel("This session's results (also in the Library) · right-click for "
                              "more · drag onto the canvas to edit")
        results_hint.setWordWrap(True)
        col.addWidget(results_hint)
        self.results = ResultsStrip()
        self.results.setViewMode(QListWidget.ViewMode.IconMode)
        self.results.setFlow(QListWidget.Flow.LeftToRight)
        self.results.setWrapping(False)
        self.results.setIconSize(QSize(THUMB, THUMB))
        self.results.setFixedHeight(THUMB + 44)
        self.results.setMovement(QListWidget.Movement.Static)
        self.results.setDragEnabled(True)
        self.results.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.results.customContextMenuRequested.connect(self._result_menu)
        self.results.itemDoubleClicked.connect(
            lambda item: self.open_in_library(item.data(Qt.ItemDataRole.UserRole)))
        self.results.currentItemChanged.connect(self._result_selected)
        col.addWidget(self.results)

        self.splitter.addWidget(self.side_scroll)
        self.splitter.addWidget(center)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([self.side_scroll.minimumWidth(), 900])
        self.ws.mode_changed.connect(self._mode_shown)
        self._mode_shown(self.ws.mode)

        QShortcut(QKeySequence("Ctrl+Return"), self, self.generate)
        QShortcut(QKeySequence("Ctrl+Enter"), self, self.generate)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancel)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.queue, self.remove_selected)
        QShortcut(QKeySequence("Ctrl+H"), self, self.show_history)
        QShortcut(QKeySequence("Ctrl+B"), self, self.toggle_side.toggle)
        # Single keys only while the canvas has the focus (never while typing a prompt).
        canvas_keys = [
            ("B", lambda: (self.brush_btn.setChecked(True), self.set_erasing(False))),
            ("E", lambda: (self.eraser_btn.setChecked(True), self.set_erasing(True))),
            ("[", lambda: self.brush_size.setValue(max(1, self.brush_size.value() * 4 // 5))),
            ("]", lambda: self.brush_size.setValue(self.brush_size.value() * 5 // 4 + 1)),
            ("F", self.canvas.fit), ("1", self.canvas.actual_size),
            ("+", lambda: self.canvas.zoom_by(1.25)), ("=", lambda: self.canvas.zoom_by(1.25)),
            ("-", lambda: self.canvas.zoom_by(1 / 1.25)),
            ("C", self._cycle_compare), ("I", lambda: self._mask_action(self.ws.mask.invert)),
            ("Ctrl+Z", lambda: self._mask_action(self.ws.mask.undo)),
            ("Ctrl+Shift+Z", lambda: self._mask_action(self.ws.mask.redo)),
            ("Ctrl+Y", lambda: self._mask_action(self.ws.mask.redo)),
        ]
        for key, slot in canvas_keys:
            QShortcut(QKeySequence(key), self.canvas, slot,
                      context=Qt.ShortcutContext.WidgetShortcut)

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
            if info.turbo or info.pipeline not in UNET_PIPELINES:
                # Distilled and newer families have fixed recipes (flow models: Euler only).
                self.steps.setValue(info.default_steps)
                self.guidance.setValue(info.default_guidance)
                self.scheduler.setCurrentText(info.default_scheduler)
            self.model_note.setText(note)
        self.lora_box.set_family(str(entry.family) if entry is not None else None)
        self._update_buttons()

    def _select_size(self, w: int, h: int) -> None:
        index = self.size.findData(f"{w}x{h}")
        if index >= 0:
            self.size.setCurrentIndex(index)

    def open_models(self) -> None:
        from studio.ui.models_dialog import ModelsDialog

        dialog = ModelsDialog(self.ctx, self)
        dialog.finished.connect(lambda _r: self._reload_models(
            select=self.model.currentData() or ""))
        dialog.open()
        self._models_dialog = dialog

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
        registry = self.vm.registry

        def build() -> ModelEntry:
            if not (target / "model_index.json").is_file():
                build_demo_pipeline(target)
            return registry.add(target, name=DEMO_NAME)

        self._set_busy(True, "Writing the demo model (tiny, random weights)…")
        run_in_background(self.ctx.runner, build, self._model_added, self._task_failed, self)

    def _add_upscaler(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose an upscaler model", "",
                                              "Upscaler models (*.safetensors *.pth)")
        if path:
            self.add_upscaler_path(Path(path))

    def add_upscaler_path(self, path: Path):
        """Register an upscaler in the background; it then shows in the Upscale menu."""
        self._set_busy(True, f"Adding the upscaler {path.name}…")
        return self.ws.add_upscaler(path).success(lambda e: self._set_busy(
            False, f"Upscaler ready: {e.label}. Use it from Upscale.")).failure(
            lambda exc: self._task_failed(str(exc))).start()

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

    # -- the workspace: source, mode, mask, outpaint ---------------------------------------

    def set_mode(self, mode: str) -> None:
        if mode != "generate" and self.ws.source is None:
            asset_id = self.canvas_asset_id()
            if asset_id is None:
                self.status.setText("Choose a source first: drop an image on the canvas, or "
                                    "\u201cUse as source\u201d on a result.")
                self.mode_buttons[self.ws.mode].setChecked(True)
                return
            self.use_source(asset_id)
        self.ws.set_mode(mode)

    def _mode_shown(self, mode: str) -> None:
        self.mode_buttons[mode].setChecked(True)
        editing = mode != "generate"
        self.mask_tools.setVisible(mode == "inpaint")
        self.outpaint_tools.setVisible(mode == "outpaint")
        self.strength.setEnabled(editing)  # the label stays enabled (theme-following text)
        self.strength.setValue(round(self.ws.strength * 100))
        self.canvas.set_painting(mode == "inpaint")
        self.canvas.set_margins(self.ws.margins if mode == "outpaint" else (0, 0, 0, 0))
        self.size.setEnabled(not editing)  # edits take their size from the source
        if editing and self.ws.source is not None:
            self._show_asset(self.ws.source)

    def _strength_changed(self, value: int) -> None:
        self.ws.strength = value / 100
        self.strength_label.setText(f"Strength {value / 100:.2f}")

    def _margins_changed(self) -> None:
        self.ws.margins = tuple(b.value() for b in self.margin_boxes)  # type: ignore[assignment]
        self.canvas.set_margins(self.ws.margins)

    def set_erasing(self, on: bool) -> None:
        self.ws.mask.erasing = on

    def _mask_action(self, action) -> None:
        try:
            action()
        except GenerationError as exc:
            self.status.setText(str(exc))

    def use_source(self, asset_id: int) -> bool:
        """Make a library asset the source of the next edit ("Use as source", a drop)."""
        try:
            asset = self.ws.use_source(asset_id)
        except GenerationError as exc:
            self.status.setText(str(exc))
            return False
        self.source_label.setText(f"Source #{asset.id}")
        self.source_label.setToolTip(f"{asset.title or asset.original_name}\n"
                                     f"{asset.width}×{asset.height}")
        self._show_asset(asset)
        self._update_compare()
        return True

    def clear_source(self) -> None:
        self.ws.clear_source()
        self.source_label.setText("No source image")
        self._update_compare()

    def _canvas_dropped(self, what) -> None:
        if isinstance(what, int):
            self.use_source(what)
            return
        path = what[0]
        self.status.setText(f"Importing {path.name}…")
        self.ws.import_file(path).success(lambda asset: (
            self.status.setText(f"{path.name} is the source."), self.use_source(asset.id))
        ).failure(lambda exc: self.status.setText(str(exc))).start()

    def canvas_asset_id(self) -> int | None:
        value = self.canvas.property("asset_id")
        return int(value) if value is not None else None

    def _update_compare(self) -> None:
        mode = self.compare_mode.currentData()
        source = self.ws.source
        shown = self.canvas_asset_id()
        if mode == "off" or source is None or shown is None or shown == source.id:
            self.canvas.set_compare(None)
            return
        # Left of the line (or left side): the result on the canvas; right: the source.
        self.canvas.set_compare(QImage(str(self.ctx.library.path_of(source))), mode,
                                ("This image", f"Source #{source.id}"))

    def compare_with(self, asset_id: int, mode: str = "slider") -> None:
        """Compare the canvas with another asset (the results menu's "Compare")."""
        other = self.ctx.library.get(asset_id)
        if other is None:
            return
        self.compare_mode.blockSignals(True)
        self.compare_mode.setCurrentIndex(self.compare_mode.findData(mode))
        self.compare_mode.blockSignals(False)
        self.canvas.set_compare(QImage(str(self.ctx.library.path_of(other))), mode,
                                ("This image", f"#{other.id}"))

    def _cycle_compare(self) -> None:
        self.compare_mode.setCurrentIndex((self.compare_mode.currentIndex() + 1) % 3)

    def set_settings_hidden(self, hidden: bool) -> None:
        self.side_scroll.setVisible(not hidden)
        self.toggle_side.setText("▶ Settings" if hidden else "◀ Settings")

    def _result_selected(self, item, _previous=None) -> None:
        if item is not None and self._running is None:
            asset = self.ctx.library.get(item.data(Qt.ItemDataRole.UserRole))
            if asset is not None:
                self._show_asset(asset)

    def _show_asset(self, asset) -> None:
        self.canvas.set_image(QImage(str(self.ctx.library.path_of(asset))))
        self.canvas.setProperty("asset_id", asset.id)
        self._update_compare()

    # -- upscale, reuse, A1111, history -----------------------------------------------------

    def _fill_upscale_menu(self) -> None:
        self.upscale_menu.clear()
        asset_id = self.canvas_asset_id()
        for scale in (2, 4):
            a = self.upscale_menu.addAction(f"{scale}× (Lanczos, no model)",
                                            lambda s=scale: self.upscale(asset_id, s))
            a.setEnabled(asset_id is not None)
        for up in self.ws.upscalers():
            for scale in (2, 4):
                a = self.upscale_menu.addAction(
                    f"{scale}× with {up.label}",
                    lambda s=scale, m=up.id: self.upscale(asset_id, s, m))
                a.setEnabled(asset_id is not None)

    def upscale(self, asset_id: int | None, scale: int, model_id: str | None = None):
        if asset_id is None:
            self.status.setText("Nothing on the canvas to upscale.")
            return None
        self.status.setText(f"Upscaling {scale}×…")

        def done(result) -> None:
            a = result.asset
            self.status.setText(f"Upscaled to {a.width}×{a.height}: a new signed asset.")
            self._add_thumbnail(a)
            self._show_asset(a)

        return self.ws.upscale(asset_id, scale, model_id).success(done).failure(
            lambda exc: self.status.setText(f"Upscale failed: {exc}")).start()

    def reuse_settings(self, asset_id: int | None):
        if asset_id is None:
            self.status.setText("Nothing on the canvas to take settings from.")
            return None
        return self.ws.reuse(str(asset_id)).success(
            lambda req: self.apply_request(req, "Settings restored from the credentials.")
        ).failure(lambda exc: self.status.setText(str(exc))).start()

    def restore_settings_from_file(self, path: Path):
        """A PNG dropped on the settings panel: a studio output's credentials first, then an
        A1111 / ComfyUI ``parameters`` chunk (telling what could not be mapped)."""
        from studio.core.generation.errors import RequestError

        def from_parameters(_exc) -> None:
            base = None
            with contextlib.suppress(GenerationError):  # no model chosen yet: none to keep
                base = self.build_request(keep_seed=True)
            self.ws.import_parameters(path, list(self.vm.entries.values()), base).success(
                lambda result: self.apply_request(
                    result[0], self._unmapped_text(path.name, result[1]))
            ).failure(lambda exc: self.status.setText(str(exc))).start()

        def from_credentials(req) -> None:
            self.apply_request(req, f"Settings restored from {path.name}'s credentials.")

        op = self.ws.reuse(str(path)).success(from_credentials)
        op.failure(lambda exc: from_parameters(exc) if isinstance(exc, RequestError)
                   else self.status.setText(str(exc))).start()
        return op

    @staticmethod
    def _unmapped_text(name: str, unmapped: list[str]) -> str:
        if not unmapped:
            return f"Settings restored from {name}; everything was mapped."
        return (f"Settings restored from {name}. Not mapped: " + "; ".join(unmapped) + ".")

    def apply_request(self, req: GenerationRequest, message: str = "") -> None:
        """Put a request's settings into the form (and its source, mask and margins)."""
        index = self.model.findData(req.model_id)
        if index >= 0:
            self.model.setCurrentIndex(index)
        self.prompt.setPlainText(req.prompt)
        self.negative.setPlainText(req.negative_prompt)
        size = f"{req.width}x{req.height}"
        if self.size.findData(size) < 0:
            self.size.addItem(f"{req.width} × {req.height}", size)
        self.size.setCurrentIndex(self.size.findData(size))
        self.steps.setValue(req.steps)
        self.guidance.setValue(req.guidance)
        self.scheduler.setCurrentText(req.scheduler)
        self.random_seed.setChecked(False)
        self.seed.setValue(min(req.seed, self.seed.maximum()))
        self.batch.setValue(req.batch_size)
        if req.is_img2img and req.init_sha256:
            source = self.ctx.library.get_by_sha256(req.init_sha256)
            if source is not None and self.use_source(source.id):
                self.ws.strength = req.strength
                if req.mode == "outpaint":
                    for box, v in zip(self.margin_boxes, req.outpaint, strict=True):
                        box.setValue(v)
                if req.mode == "inpaint" and req.mask_sha256:
                    self.ws.restore_mask(req.mask_sha256)
                self.ws.set_mode(req.mode)
                self._mode_shown(req.mode)
        self.status.setText(message)

    def show_history(self) -> None:
        from studio.ui.generate.history_dialog import HistoryDialog

        entry = self.current_model()
        dialog = HistoryDialog(self.ws, entry.id if entry else None, self)
        if dialog.exec() and dialog.chosen is not None:
            self.prompt.setPlainText(dialog.chosen.prompt)
            self.negative.setPlainText(dialog.chosen.negative_prompt)

    # -- generate, cancel, queue ------------------------------------------------------------

    def build_request(self, keep_seed: bool = False) -> GenerationRequest:
        """The form (and the workspace's edit: source, mask, margins) as a request."""
        entry = self.current_model()
        if entry is None:
            raise GenerationError("Choose a model first: add one, or create the demo model.")
        if self.random_seed.isChecked() and not keep_seed:
            self.seed.setValue(random.randrange(2**31))
        w, h = (int(v) for v in self.size.currentData().split("x"))
        fields = {"width": w, "height": h, **self.ws.edit_fields()}
        return GenerationRequest(
            model_id=entry.id, model_sha256=entry.sha256, model_name=entry.name,
            family=str(entry.family), prompt=self.prompt.toPlainText().strip(),
            negative_prompt=self.negative.toPlainText().strip(),
            seed=min(self.seed.value(), MAX_SEED), steps=self.steps.value(),
            guidance=self.guidance.value(), scheduler=self.scheduler.currentText(),
            batch_size=self.batch.value(), **fields,
            model_source=entry.source, loras=self.lora_box.refs(),
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
        self.device_note.setToolTip(line)
        self.device_note.setStyleSheet("color: palette(link);" if needs_action else "")
        self.setup_gpu.setVisible(needs_action)

    def _open_setup(self) -> None:
        from studio.ui.provision_dialog import open_provision_dialog

        open_provision_dialog(self.ctx, self)

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
        elif isinstance(ev, JobStatus) and ev.job_id == self._running:
            self.progress.setRange(0, 0)
            self.progress.setFormat(ev.text)  # e.g. "Preparing the fast path…"
        elif isinstance(ev, JobProgress):
            self.progress.setRange(0, ev.total)
            self.progress.setValue(ev.done)
            self.progress.setFormat(f"Step {ev.done} of {ev.total}")
        elif isinstance(ev, JobPreview):
            self.canvas.set_compare(None)
            self.canvas.set_image(pil_to_qimage(ev.image))  # streams into the canvas
        elif isinstance(ev, JobFinished):
            self._finished(ev)
        elif isinstance(ev, QueueChanged):
            self._show_queue()
        self._update_buttons()

    def _finished(self, ev: JobFinished) -> None:
        # Images are stored while the next job already runs: add a finished job's thumbnails
        # whichever job runs now.
        if ev.state is JobState.DONE:
            seed = self._seeds.pop(ev.job_id, None)
            for i, asset in enumerate(ev.assets):
                self._add_thumbnail(asset, None if seed is None else seed + i)
        if ev.job_id != self._running:
            return  # a waiting job was removed, or the next job has started
        self._running = None
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if ev.state is JobState.DONE else 0)
        if ev.state is JobState.DONE:
            self.progress.setFormat(f"Done in {ev.seconds:.1f} s")
            self.status.setText(f"{len(ev.assets)} image(s) added to the library.")
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
        self._show_asset(asset)  # the stored image replaces the preview

    def _add_thumbnail(self, asset, seed: int | None = None) -> None:
        label = f"{asset.width}×{asset.height}" if asset.width else f"#{asset.id}"
        item = QListWidgetItem(QIcon(self._scaled(asset, THUMB)), label)
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
        menu.addAction("Reuse se&ttings", lambda: self.reuse_settings(asset_id))
        menu.addAction("&Use as source", lambda: self.use_source(asset_id))
        menu.addAction("Upscale &2×", lambda: self.upscale(asset_id, 2))
        menu.addAction("Upscale &4×", lambda: self.upscale(asset_id, 4))
        menu.addAction("&Compare with the canvas", lambda: self.compare_with(asset_id))
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

    @property
    def engine(self) -> Any:
        """The app's generation engine (built on first use)."""
        return self.vm.engine

    def _warm_engine(self) -> None:
        """Once a prompt is being written, build the engine on a pool thread (its imports,
        PIL and the signer take a few hundred ms), so the first Generate does not stall the
        window. A Generate before that ends waits for it, as it would have built it anyway."""
        if not self._warming:
            self._warming = True
            self.vm.warm().start()

    def shutdown(self) -> None:
        self.vm.detach()
        self.vm.shutdown_engine(timeout=5)


def build(ctx: AppContext) -> QWidget:
    return GenerateSection(ctx)
