"""The Qt entry point: QApplication on a qasync event loop, the main window, error hooks.

Nothing heavy is imported here: torch, diffusers, transformers, c2pa and web3 load on first use.
"""

from __future__ import annotations

import contextlib
import logging
import sys

from studio import APP_ID, APP_NAME, __version__
from studio.core.paths import StudioPaths

log = logging.getLogger(__name__)


def create_application(argv: list[str]):
    """The QApplication, in the studio's style (Fusion) from the start: chosen later with
    ``setStyle``, the QStyle it returns makes its Python type and 11 enums (~14 ms) before the
    first paint. ``apply_theme`` sets the style itself on an application made elsewhere."""
    from PySide6.QtWidgets import QApplication

    app = QApplication([*argv, "-style", "Fusion"])
    app.setProperty("studioStyle", "Fusion")
    return app


def create_context(paths: StudioPaths):
    """The composition root the window and its sections share (the CLI builds the same)."""
    from PySide6.QtCore import QCoreApplication

    from studio.services.studio import Studio

    ctx = Studio.open(paths)
    if QCoreApplication.instance() is not None:
        from studio.ui.dispatch import gui_post

        ctx.set_dispatcher(gui_post())  # callbacks and app events run on the Qt thread
    return ctx


def create_window(ctx):
    """Build the window for ``ctx`` on an existing QApplication (tests use this too)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from studio.ui.dispatch import gui_post
    from studio.ui.main_window import MainWindow
    from studio.ui.theme import apply_theme, system_is_dark

    app = QApplication.instance()
    assert isinstance(app, QApplication), "create a QApplication first"
    ctx.set_dispatcher(gui_post())  # callbacks and app events run on the Qt thread
    ui = ctx.settings.ui
    # The first frame uses the system scheme seen at the last start; the real one is read
    # right after the first paint (reading it costs ~40 ms of Qt enums) and applied if it
    # changed meanwhile.
    apply_theme(app, ui.theme, ui.system_dark)

    def follow_system(_scheme: object = None) -> None:
        dark = system_is_dark()
        if ui.system_dark != dark:  # kept for the next start's first frame
            ui.system_dark = dark
            with contextlib.suppress(OSError):  # logged by save_settings; not worth a dialog
                ctx.save_settings()
        if ui.theme == "system" and app.property("studioDark") != dark:
            apply_theme(app, "system", dark)

    app.styleHints().colorSchemeChanged.connect(follow_system)
    window = MainWindow(ctx)
    window.first_painted.connect(lambda: QTimer.singleShot(0, follow_system))
    return window


def show_notices(window, notices: list[str]) -> None:
    from PySide6.QtWidgets import QMessageBox

    for text in notices:
        QMessageBox.warning(window, APP_NAME, text)


def run_app(paths: StudioPaths) -> int:
    from studio.core.logging_setup import enable_crash_dumps, setup_logging

    paths.ensure()
    setup_logging(paths.log_dir)
    enable_crash_dumps(paths.log_dir)
    log.info("starting %s %s", APP_NAME, __version__)

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from studio.ui.errors import install_excepthook

    app = QApplication.instance() or create_application(sys.argv)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_ID)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    install_excepthook()

    ctx = create_context(paths)
    window = create_window(ctx)
    window.show()
    # The first paint comes before asyncio and qasync load (~50 ms): a plain Qt loop runs
    # until the window has painted (or 2 s, if it never does, e.g. started minimised).
    first = QEventLoop()
    window.first_painted.connect(first.quit)
    QTimer.singleShot(2000, first.quit)
    first.exec()

    import asyncio

    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    ctx.set_loop(loop)  # async chain I/O runs on the qasync loop, beside the GUI
    if ctx.notices:
        QTimer.singleShot(0, lambda: show_notices(window, ctx.notices))
    from studio.core.accelerator import installed_torch_build

    if installed_torch_build() is None:  # an installer that ships without PyTorch: first run
        from studio.ui.provision_dialog import open_provision_dialog

        QTimer.singleShot(0, lambda: open_provision_dialog(ctx, window))

    quit_event = asyncio.Event()
    app.aboutToQuit.connect(quit_event.set)
    try:
        if window.isVisible():  # not closed while it first painted
            with loop:
                loop.run_until_complete(quit_event.wait())
    finally:
        ctx.stop_sandbox()  # anvil dumps its state on the way out
        ctx.close()
        log.info("exited")
    return 0
