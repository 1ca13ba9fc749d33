"""The LoRA list of the Generate section: the registered LoRAs of the chosen model's family,
each with a checkbox and a weight slider (-2 to 2), trigger words shown. A thin widget over
:class:`studio.viewmodels.models.LoraChoices`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QSlider,
    QWidget,
)

from studio.ui.dispatch import connect

STEPS_PER_UNIT = 20  # slider ticks per weight unit: 0.05 steps


class LoraBox(QGroupBox):
    def __init__(self, choices: Any, parent: QWidget | None = None) -> None:
        super().__init__("LoRAs", parent)
        self.choices = choices
        self._family: str | None = None
        self.grid = QGridLayout(self)
        self.rows: dict[str, tuple[QCheckBox, QSlider, QLabel]] = {}
        connect(self.choices.changed, self._rebuild, self)
        self._rebuild()

    def set_family(self, family: str | None) -> None:
        self._family = family
        self.choices.set_family(family)

    def refs(self) -> tuple[Any, ...]:
        return self.choices.refs()

    def _rebuild(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.hide()  # gone now, not only once the deferred delete runs
                widget.setParent(None)
                widget.deleteLater()
        self.rows.clear()
        available = self.choices.available
        if not available:
            self.grid.addWidget(QLabel("No LoRA for this model's family yet."), 0, 0, 1, 3)
        for row, lora in enumerate(available):
            chosen = lora.id in self.choices.weights
            weight = self.choices.weights.get(lora.id, 1.0)
            box = QCheckBox(lora.name)
            box.setChecked(chosen)
            words = ", ".join(lora.trigger_words)
            box.setToolTip(f"sha256 {lora.sha256}\n{lora.source or lora.path}"
                           + (f"\nTrigger words: {words}" if words else ""))
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(-2 * STEPS_PER_UNIT, 2 * STEPS_PER_UNIT)
            slider.setValue(round(weight * STEPS_PER_UNIT))
            slider.setEnabled(chosen)
            slider.setAccessibleName(f"{lora.name} weight")
            value = QLabel(f"{weight:.2f}")
            value.setMinimumWidth(36)
            box.toggled.connect(lambda on, i=lora.id: self._toggle(i, on))
            slider.valueChanged.connect(lambda v, i=lora.id: self._weight(i, v))
            self.grid.addWidget(box, 2 * row, 0)
            self.grid.addWidget(slider, 2 * row, 1)
            self.grid.addWidget(value, 2 * row, 2)
            if words:
                hint = QLabel(f"Trigger words: {words}")
                hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                hint.setStyleSheet("color: palette(placeholder-text);")
                self.grid.addWidget(hint, 2 * row + 1, 0, 1, 3)
            self.rows[lora.id] = (box, slider, value)
        add = QPushButton("Add LoRA…")
        add.clicked.connect(self._add)
        self.grid.addWidget(add, 2 * max(1, len(available)), 0)
        self.grid.setColumnStretch(1, 1)

    def set_weight(self, lora_id: str, weight: float | None) -> None:
        """Choose ``lora_id`` at ``weight`` (None: unchosen), as the user would."""
        box, slider, _value = self.rows[lora_id]
        box.setChecked(weight is not None)
        if weight is not None:
            slider.setValue(round(weight * STEPS_PER_UNIT))

    def _toggle(self, lora_id: str, on: bool) -> None:
        _box, slider, _value = self.rows[lora_id]
        slider.setEnabled(on)
        self.choices.choose(lora_id, slider.value() / STEPS_PER_UNIT if on else None)

    def _weight(self, lora_id: str, ticks: int) -> None:
        box, _slider, value = self.rows[lora_id]
        value.setText(f"{ticks / STEPS_PER_UNIT:.2f}")
        if box.isChecked():
            self.choices.choose(lora_id, ticks / STEPS_PER_UNIT)

    def _add(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a LoRA", "",
                                              "LoRA files (*.safetensors)")
        if path:
            self.choices.add(Path(path)).success(
                lambda _e: self.choices.set_family(self._family)).failure(
                lambda exc: QMessageBox.warning(self, "LoRA not added", str(exc))).start()
