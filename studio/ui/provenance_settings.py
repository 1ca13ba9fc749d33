"""Settings → Content credentials: the time-stamp authority (none by default) and whether the
official C2PA trust lists are trusted. Plain settings; nothing here touches the network."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QLabel, QWidget

from studio.core.provenance.tsa import WELL_KNOWN, check_tsa_url
from studio.ui.context import AppContext

_NONE = "None (signatures carry no trusted time)"


class ProvenanceBox(QGroupBox):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Content credentials", parent)
        self.ctx = ctx
        prov = ctx.settings.provenance
        form = QFormLayout(self)
        self.tsa = QComboBox()
        self.tsa.setEditable(True)
        self.tsa.addItem(_NONE, "")
        for label, url in WELL_KNOWN:
            self.tsa.addItem(url, url)
            self.tsa.setItemData(self.tsa.count() - 1, f"{label} public time-stamp authority",
                                 Qt.ItemDataRole.ToolTipRole)
        self.tsa.setToolTip("An RFC 3161 time-stamp authority keeps your files verifiable after "
                            "your certificate expires. Each signature then sends a hash (never "
                            "the image) to that server.")
        self._set_tsa_text(prov.tsa_url)
        self.tsa.lineEdit().editingFinished.connect(self._tsa_changed)
        self.tsa.activated.connect(lambda _i: self._tsa_changed())
        form.addRow("Time-stamp authority", self.tsa)
        self.tsa_error = QLabel()
        self.tsa_error.setWordWrap(True)
        self.tsa_error.setStyleSheet("color: #b3261e;")
        self.tsa_error.hide()
        form.addRow("", self.tsa_error)
        self.official = QCheckBox("Trust the official C2PA Trust List and TSA Trust List")
        self.official.setToolTip("Shipped with the app (C2PA, CC BY 4.0). Files signed by a "
                                 "certificate from a listed CA read Trusted.")
        self.official.setChecked(prov.official_trust_lists)
        self.official.toggled.connect(self._official_changed)
        form.addRow("", self.official)

    def _set_tsa_text(self, url: str) -> None:
        index = self.tsa.findData(url)
        if index >= 0:
            self.tsa.setCurrentIndex(index)
        else:
            self.tsa.setEditText(url)

    def _tsa_changed(self) -> None:
        text = self.tsa.currentText()
        try:
            url = check_tsa_url("" if text == _NONE else text)
        except ValueError as exc:
            self.tsa_error.setText(str(exc))
            self.tsa_error.show()
            return
        self.tsa_error.hide()
        if url != self.ctx.settings.provenance.tsa_url:
            self.ctx.settings.provenance.tsa_url = url
            self.ctx.save_settings()

    def _official_changed(self, checked: bool) -> None:
        self.ctx.settings.provenance.official_trust_lists = checked
        self.ctx.save_settings()
