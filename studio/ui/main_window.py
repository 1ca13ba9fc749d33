"""The main window: a sidebar of sections, a stack that builds each on first show, and a
status bar for device, chain and account."""

from __future__ import annotations

import binascii
import importlib
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from studio import APP_NAME
from studio.resources import resource
from studio.ui.context import AppContext
from studio.ui.sections import SECTIONS, SectionSpec
from studio.ui.text import account_status
from studio.viewmodels.chain_text import chain_status

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent

    from studio.ui.drop import WindowImport

log = logging.getLogger(__name__)

STYLE = """
#sidebar { border: none; font-size: 14px; padding-top: 8px; background: palette(base); }
#sidebar::item { padding: 10px 16px; border-radius: 6px; margin: 2px 8px; color: palette(text); }
#sidebar::item:selected { background: palette(highlight); color: palette(highlighted-text); }
#sidebar::item:hover:!selected { background: palette(alternate-base); }
#sectionHeading { font-size: 22px; font-weight: 600; margin-bottom: 8px; }
#placeholderText { font-size: 14px; }
"""


class MainWindow(QMainWindow):
    section_changed = Signal(str)
    # Emitted once after the first paint (bench/startup.py and tests listen for it).
    first_painted = Signal()

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self._painted = False
        self._shut_down = False
        self.setWindowTitle(APP_NAME)
        self.setStyleSheet(STYLE)
        self.setMinimumSize(QSize(720, 480))

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFixedWidth(190)
        self.stack = QStackedWidget()
        self._pages: dict[str, QWidget] = {}
        self._holders: dict[str, QWidget] = {}
        for i, spec in enumerate(SECTIONS):
            item = QListWidgetItem(spec.title)  # row i is SECTIONS[i]
            item.setToolTip(f"{spec.blurb} (Ctrl+{i + 1})")
            self.sidebar.addItem(item)
            holder = QWidget()  # replaced by the real page on first show
            self._holders[spec.key] = holder
            self.stack.addWidget(holder)
        layout.addWidget(self.sidebar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.sidebar.currentRowChanged.connect(self._on_row)

        self.busy_label = QLabel()
        self.busy_label.setObjectName("busyLabel")
        self.device_label = QLabel("Device: not probed yet")
        self.device_label.setToolTip("Found when the first image is generated")
        chain_text, chain_tip = chain_status(ctx)
        self.chain_label = QLabel(chain_text)
        self.chain_label.setToolTip(chain_tip)
        self.account_label = QLabel(self._account_text())
        for w in (self.busy_label, self.device_label, self.chain_label, self.account_label):
            w.setContentsMargins(8, 0, 8, 0)
            self.statusBar().addPermanentWidget(w)

        # The menus with their shortcuts now (Ctrl+1… must work as soon as the window shows);
        # the window icon right after the paint (QIcon's Python type builds ~150 enums).
        self._build_menus()
        self._importer: WindowImport | None = None
        self._started = False
        self._restore_geometry()
        keys = [s.key for s in SECTIONS]
        last = ctx.settings.ui.last_section
        # The row is selected now, its page is built right after the first paint: a section
        # (Generate imports the engine, PIL and the signer) must not delay the window. So are
        # the view-models (psygnal) behind the status bar and the window-wide import handling;
        # until then the status bar shows what the settings say (see finish_start).
        self.sidebar.blockSignals(True)
        self.sidebar.setCurrentRow(keys.index(last) if last in keys else 0)
        self.sidebar.blockSignals(False)

    # -- sections ---------------------------------------------------------------------------

    def section_keys(self) -> list[str]:
        return [s.key for s in SECTIONS]

    def current_section(self) -> str:
        return SECTIONS[self.sidebar.currentRow()].key

    def show_section(self, key: str) -> None:
        row = self.section_keys().index(key)
        if row == self.sidebar.currentRow():
            self._show_current_page()  # selected before the first paint, maybe not built yet
        else:
            self.sidebar.setCurrentRow(row)

    def page(self, key: str) -> QWidget:
        self.finish_start()
        return self._pages.get(key) or self._build_page(SECTIONS[self.section_keys().index(key)])

    def _build_page(self, spec: SectionSpec) -> QWidget:
        module_name, _, func = spec.factory.partition(":")
        page = getattr(importlib.import_module(module_name), func)(self.ctx)
        holder = self._holders[spec.key]
        index = self.stack.indexOf(holder)
        self.stack.removeWidget(holder)
        holder.deleteLater()
        self.stack.insertWidget(index, page)
        self._pages[spec.key] = page
        if self._importer is not None:  # its text fields must import dropped files too
            self._importer.watch(page)
        return page

    def _on_row(self, row: int) -> None:
        if row < 0:
            return
        spec = SECTIONS[row]
        page = self.page(spec.key)
        self.stack.setCurrentWidget(page)
        self.ctx.settings.ui.last_section = spec.key
        self.section_changed.emit(spec.key)

    def _account_text(self) -> str:
        # From plain settings: the keyring is not touched at start.
        wallet = self.ctx.settings.wallet
        active = next((a for a in wallet.accounts if a.address == wallet.active_account), None)
        return account_status(active)

    def _bind_state(self) -> None:
        """The status bar follows the view-models; failures of background work without their
        own handler are shown here, one way."""
        from studio.ui.dispatch import connect
        from studio.viewmodels import ViewModels

        models = ViewModels.of(self.ctx)
        chain = models.chain
        self.set_status("chain", chain.text, chain.tooltip)
        connect(chain.changed, lambda text, tip: self.set_status("chain", text, tip), self)
        connect(models.wallet.accounts_changed, self._account_changed, self)
        connect(self.ctx.runner.busy_changed, self._busy_changed, self)
        connect(self.ctx.runner.failed, self._operation_failed, self)

    def _account_changed(self) -> None:
        active = self.ctx.wallet.active_account()
        self.set_status("account", account_status(active),
                        active.address if active else "No active wallet account")

    def _busy_changed(self, count: int, label: str) -> None:
        self.busy_label.setText(f"{label}…" if count and label else
                                "Working…" if count else "")

    def _operation_failed(self, label: str, exc: Exception) -> None:
        from studio.ui.errors import show_error

        show_error(self, exc, label)

    def set_status(self, kind: str, text: str, tooltip: str = "") -> None:
        """Update one status-bar field: ``device``, ``chain`` or ``account``."""
        label = {"device": self.device_label, "chain": self.chain_label,
                 "account": self.account_label}[kind]
        label.setText(text)
        if tooltip:
            label.setToolTip(tooltip)

    # -- menus and shortcuts ----------------------------------------------------------------

    def _build_menus(self) -> None:
        self.file_menu = file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        # setShortcuts([...]), not setShortcut(...): resolving setShortcut's overloads builds
        # the 93 Python enums of the Qt namespace (~40 ms) before the first paint.
        quit_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.Quit)])
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        self.view_menu = view_menu = self.menuBar().addMenu("&View")
        for i, spec in enumerate(SECTIONS):
            action = QAction(spec.title, self)
            action.setShortcuts([QKeySequence(f"Ctrl+{i + 1}")])
            action.triggered.connect(lambda _=False, k=spec.key: self.show_section(k))
            view_menu.addAction(action)
            self.addAction(action)

        self.help_menu = help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _about(self) -> None:
        from studio.ui.about_dialog import AboutDialog

        AboutDialog(self.ctx.paths, self).exec()

    # -- geometry and lifecycle -------------------------------------------------------------

    def _restore_geometry(self) -> None:
        saved = self.ctx.settings.ui.window_geometry
        try:  # bytes, not QByteArray: its Python type builds enums before the first paint
            state = binascii.a2b_base64(saved.encode("ascii")) if saved else b""
        except (binascii.Error, ValueError, UnicodeEncodeError):
            state = b""  # a hand-edited settings file: the default size
        if state and self.restoreGeometry(state):
            return
        self.resize(1200, 800)

    def save_state(self) -> None:
        geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        self.ctx.settings.ui.window_geometry = geometry
        try:
            self.ctx.save_settings()
        except OSError as exc:
            log.error("settings not saved on close: %s", exc)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_painted.emit()
            QTimer.singleShot(0, self._show_current_page)

    @property
    def importer(self) -> WindowImport:
        """Drops, paste and File > Import (installed right after the first paint)."""
        self.finish_start()
        assert self._importer is not None
        return self._importer

    def finish_start(self) -> None:
        """What the first paint need not wait for: the window icon, the status bar's
        view-models and the window's file-drop handling (ui/drop.py). Runs right after the
        first paint, or earlier when something asks for it; once."""
        if self._started:
            return
        self._started = True
        from PySide6.QtGui import QIcon

        # The PNG sizes, not the SVG: an SVG icon loads Qt's SVG module and icon plugin,
        # 1.4 MiB more in the idle window for the same picture.
        icon = QIcon()
        for size in (16, 32, 48, 64, 128, 256):
            icon.addFile(str(resource("icons", f"studio-{size}.png")))
        self.setWindowIcon(icon)
        self._bind_state()
        from studio.ui.drop import install_import_handling

        self._importer = install_import_handling(self)

    def _show_current_page(self) -> None:
        """Build and show the selected section unless a switch already did."""
        self.finish_start()
        row = self.sidebar.currentRow()
        if row >= 0 and self.stack.currentWidget() is not self._pages.get(SECTIONS[row].key):
            self._on_row(row)

    def shutdown(self) -> None:
        """Stop background work (a running import, the generation worker), then close the
        library. Called on close; safe to call twice."""
        if self._shut_down:
            return
        self._shut_down = True
        if self._importer is not None:
            self._importer.controller.shutdown()
        for page in self._pages.values():
            stop = getattr(page, "shutdown", None)
            if callable(stop):
                stop()
        self.ctx.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.shutdown()
        super().closeEvent(event)
        app = QApplication.instance()
        if app is not None:
            app.quit()
