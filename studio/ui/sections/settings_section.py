"""Settings: appearance, chains, content credentials, where files live, and a reset with
confirmation."""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.core.settings import Settings
from studio.ui.context import AppContext
from studio.ui.theme import apply_theme

THEMES = [("Follow system", "system"), ("Light", "light"), ("Dark", "dark")]


class SettingsSection(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        # The boxes scroll rather than squash when the window is short (1024x700 and below).
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        scroll.setWidget(body)
        outer.addWidget(scroll)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(32, 32, 32, 32)
        heading = QLabel("Settings")
        heading.setObjectName("sectionHeading")
        layout.addWidget(heading)

        look = QGroupBox("Appearance")
        form = QFormLayout(look)
        self.theme = QComboBox()
        for label, value in THEMES:
            self.theme.addItem(label, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(ctx.settings.ui.theme)))
        self.theme.currentIndexChanged.connect(self._theme_changed)
        form.addRow("Theme", self.theme)
        layout.addWidget(look)

        from studio.ui.chains_settings import ChainsBox

        self.chains = ChainsBox(ctx)
        layout.addWidget(self.chains)

        from studio.ui.provenance_settings import ProvenanceBox

        self.provenance = ProvenanceBox(ctx)
        layout.addWidget(self.provenance)

        from studio.ui.speed_settings import SpeedBox

        self.speed = SpeedBox(ctx)
        layout.addWidget(self.speed)

        folders = QGroupBox("Folders")
        folder_form = QFormLayout(folders)
        for label, path in ctx.paths.as_dict().items():
            row = QHBoxLayout()
            shown = QLabel(path)
            shown.setTextInteractionFlags(shown.textInteractionFlags()
                                          | shown.textInteractionFlags().TextSelectableByMouse)
            button = QPushButton("Open")
            button.setToolTip(f"Open the {label} folder in your file manager")
            button.clicked.connect(lambda _=False, p=path: QDesktopServices.openUrl(
                QUrl.fromLocalFile(p)))
            row.addWidget(shown, 1)
            row.addWidget(button)
            folder_form.addRow(label.capitalize(), row)
        layout.addWidget(folders)

        reset = QPushButton("Reset all settings…")
        reset.setToolTip("Keep a backup of the current settings file and restore defaults")
        reset.clicked.connect(self._reset)
        reset_row = QHBoxLayout()
        reset_row.addWidget(reset)
        reset_row.addStretch(1)
        layout.addLayout(reset_row)
        layout.addStretch(1)

    def _theme_changed(self) -> None:
        self.ctx.settings.ui.theme = self.theme.currentData()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, self.ctx.settings.ui.theme)
        self.ctx.save_settings()
        self.ctx.emit(self.ctx.events.theme_changed, self.ctx.settings.ui.theme)

    def _reset(self) -> None:
        answer = QMessageBox.question(
            self, "Reset settings",
            "Restore every setting to its default? Your current settings file is kept as a "
            "backup. Wallet accounts in your keyring are not deleted.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        backup = self.ctx.settings_store.reset()
        self.ctx.settings = Settings()
        self.theme.setCurrentIndex(self.theme.findData("system"))
        QMessageBox.information(
            self, "Settings reset",
            "Defaults restored." + (f" The previous file was kept as {backup}." if backup else ""),
        )


def build(ctx: AppContext) -> QWidget:
    return SettingsSection(ctx)
