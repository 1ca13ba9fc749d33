"""What the window defers past its first paint still happens, in order: the status bar binds
its view-models and the import handling is installed right after the paint, the theme corrects
a remembered colour scheme that no longer holds, the GUI-thread dispatcher keeps the runner's
promises (FIFO, from any thread, errors to the excepthook), and the Generate section builds
the engine only when a prompt is written (in the background) or a job needs it."""

from __future__ import annotations

import sys
import threading

from PySide6.QtWidgets import QApplication

from studio.app import create_context, create_window
from studio.ui.dispatch import gui_post
from studio.ui.theme import system_is_dark


def test_status_bar_and_import_handling_start_after_the_first_paint(qtbot, paths) -> None:
    ctx = create_context(paths)
    win = create_window(ctx)
    qtbot.addWidget(win)
    # Before the paint: the status bar reads the settings; nothing is bound or installed yet.
    assert win.chain_label.text() == "Chain: Sandbox (not started)"
    assert not win._started and win._importer is None
    assert "runner" not in ctx.__dict__ and "events" not in ctx.__dict__
    with qtbot.waitSignal(win.first_painted, timeout=10_000):
        win.show()
    qtbot.waitUntil(lambda: win._started and win.current_section() == "generate", timeout=10_000)
    assert win.importer.import_action.shortcut().toString() == "Ctrl+I"
    # The menus are there, and the window icon came right after the paint.
    assert [a.text() for a in win.file_menu.actions() if a.text()][-1] == "&Quit"
    assert [a.shortcut().toString() for a in win.view_menu.actions()][:2] == ["Ctrl+1", "Ctrl+2"]
    assert [a.text() for a in win.help_menu.actions()] == ["&About"]
    sizes = {s.width() for s in win.windowIcon().availableSizes()}
    assert {16, 32, 256} <= sizes  # the PNG sizes (no SVG module in the idle window)
    # Bound: a chain switch reaches the status bar through the view-model.
    ctx.add_chain(name="Local", rpc_url="http://127.0.0.1:9", chain_id=1337)
    local = next(p for p in ctx.profiles.all() if p.name == "Local")
    ctx.switch_chain(local.id)
    qtbot.waitUntil(lambda: "Local" in win.chain_label.text(), timeout=5_000)
    win.shutdown()


def test_a_remembered_colour_scheme_is_corrected_after_the_paint(qtbot, paths) -> None:
    app = QApplication.instance()
    real = system_is_dark()
    ctx = create_context(paths)
    ctx.settings.ui.theme = "system"
    ctx.settings.ui.system_dark = not real  # as if the system switched since the last start
    win = create_window(ctx)
    qtbot.addWidget(win)
    assert app.property("studioDark") is (not real)  # the first frame uses the remembered one
    with qtbot.waitSignal(win.first_painted, timeout=10_000):
        win.show()
    qtbot.waitUntil(lambda: app.property("studioDark") is real, timeout=5_000)
    assert ctx.settings.ui.system_dark is real
    assert ctx.settings_store.load().settings.ui.system_dark is real  # kept for the next start
    win.shutdown()


def test_section_shortcuts_work_as_soon_as_the_window_shows(studio_window) -> None:
    """Ctrl+2 switches sections the moment the window is exposed, before the deferred start
    (which builds the status bar's view-models) has run."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    QTest.keyClick(studio_window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert studio_window.current_section() == "library"
    QTest.keyClick(studio_window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert studio_window.current_section() == "generate"


def test_the_light_palette_is_fusions_own(qapp) -> None:
    """The light theme's palette is written out (asking the style for it costs the first paint
    ~14 ms): it must stay Fusion's standard palette, role by role, in every group."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QStyleFactory

    from studio.ui.theme import _light_palette

    ours, fusion = _light_palette(), QStyleFactory.create("Fusion").standardPalette()
    groups = (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive,
              QPalette.ColorGroup.Disabled)
    roles = [r for r in QPalette.ColorRole if r != QPalette.ColorRole.NColorRoles]
    differ = [(g.name, r.name, ours.color(g, r).name(), fusion.color(g, r).name())
              for g in groups for r in roles
              if ours.color(g, r).rgba() != fusion.color(g, r).rgba()
              and r != QPalette.ColorRole.NoRole]
    assert not differ


def test_a_corrupt_saved_geometry_opens_the_default_size(qtbot, paths) -> None:
    ctx = create_context(paths)
    ctx.settings.ui.window_geometry = "not base64 at all!"
    win = create_window(ctx)
    qtbot.addWidget(win)
    assert (win.width(), win.height()) == (1200, 800)
    win.resize(900, 700)
    win.save_state()  # what the next start restores
    again = create_window(create_context(paths))
    qtbot.addWidget(again)
    assert again.height() == 700 and again.width() < 1200  # restored, not the default
    win.shutdown()
    again.shutdown()


def test_dispatcher_runs_posts_on_the_gui_thread_in_order(qtbot, monkeypatch) -> None:
    post = gui_post()
    gui = threading.get_ident()
    seen: list[tuple[int, int, bool]] = []
    hooked: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, exc, tb: hooked.append(exc))

    def boom() -> None:
        raise RuntimeError("posted callback failed")

    def worker(k: int) -> None:
        for i in range(300):
            post(lambda k=k, i=i: seen.append((k, i, threading.get_ident() == gui)))

    post(boom)
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    qtbot.waitUntil(lambda: len(seen) == 900, timeout=10_000)
    assert all(on_gui for _, _, on_gui in seen)
    for k in range(3):
        assert [i for kk, i, _ in seen if kk == k] == list(range(300))
    assert [str(e) for e in hooked] == ["posted callback failed"]


def test_generate_section_builds_the_engine_when_a_prompt_is_written(studio_window,
                                                                      qtbot) -> None:
    ctx = studio_window.ctx
    section = studio_window.page("generate")
    assert "engine" not in ctx.__dict__
    section.prompt.setPlainText("a lighthouse at dusk")
    qtbot.waitUntil(lambda: "engine" in ctx.__dict__, timeout=30_000)  # on a pool thread
    assert section.engine is ctx.engine
    assert section.vm._relay in ctx.engine._listeners  # the section hears its events
