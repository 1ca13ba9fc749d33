"""Settings → Generation speed: the fast path's switches (settings.generation.fast_path).

Plain settings fields (no torch here): the engine compares them with what it applied before
each job and reloads the model when they changed."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel

from studio.ui.context import AppContext

# field -> (row label, [(choice label, value)], tooltip)
CHOICES: dict[str, tuple[str, list[tuple[str, str]], str]] = {
    "enabled": ("Fast path", [("Automatic (on with an NVIDIA GPU)", "auto"), ("On", "on"),
                              ("Off", "off")],
                "Half precision per model family, fused attention, channels-last and the "
                "fastest attention kernels. Same images as without it."),
    "compile": ("Compile the model", [("Automatic (NVIDIA GPU)", "auto"), ("On", "on"),
                                      ("Off", "off")],
                "torch.compile with CUDA graphs: the first image of a size takes longer "
                "(\"Preparing the fast path…\"); the result is cached on disk for next time."),
    "fp8": ("FP8 (Ada/Hopper GPUs)", [("Off", "off"), ("Automatic", "auto"), ("On", "on")],
            "8-bit float weights and activations via torchao: faster on RTX 40xx/H100-class "
            "GPUs, very slightly different images."),
    "draft_cache": ("Draft speed (lower quality)",
                    [("Off", "off"), ("First-block cache", "first-block"),
                     ("MagCache", "mag"), ("TaylorSeer", "taylorseer")],
                    "Skips work between steps on transformer models (SD3, FLUX): faster, but "
                    "the images lose detail. For drafts."),
}


class SpeedBox(QGroupBox):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__("Generation speed")
        self.ctx = ctx
        form = QFormLayout(self)
        self.combos: dict[str, QComboBox] = {}
        fast = ctx.settings.generation.fast_path
        for name, (label, choices, tip) in CHOICES.items():
            combo = QComboBox()
            for text, value in choices:
                combo.addItem(text, value)
            combo.setCurrentIndex(max(0, combo.findData(getattr(fast, name))))
            combo.setToolTip(tip)
            combo.currentIndexChanged.connect(lambda _i, n=name: self._changed(n))
            form.addRow(label, combo)
            self.combos[name] = combo
        note = QLabel("Changes apply from the next image (the model is loaded again).")
        note.setWordWrap(True)
        form.addRow(note)

    def _changed(self, name: str) -> None:
        setattr(self.ctx.settings.generation.fast_path, name, self.combos[name].currentData())
        self.ctx.save_settings()
