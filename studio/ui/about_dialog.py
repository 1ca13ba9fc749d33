"""Help > About: version, library versions, licences of bundled third-party software."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio import APP_NAME, __version__
from studio.core.about import bundled_components
from studio.core.paths import StudioPaths


class AboutDialog(QDialog):
    def __init__(self, paths: StudioPaths, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        self.resize(620, 520)
        layout = QVBoxLayout(self)
        title = QLabel(f"<h2>{APP_NAME} {__version__}</h2>"
                       "<p>Local image generation with signed C2PA provenance and on-chain "
                       "royalty splits. Licensed under Apache-2.0.</p>")
        title.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(QLabel("Third-party software in this build:"))
        components = bundled_components()
        self.table = QTableWidget(len(components), 3)
        self.table.setHorizontalHeaderLabels(["Component", "Version", "Licence"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, comp in enumerate(components):
            for col, text in enumerate((comp.name, comp.version, comp.license)):
                self.table.setItem(row, col, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        logs = QPushButton("Open log folder")
        logs.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.log_dir))))
        buttons.addButton(logs, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
