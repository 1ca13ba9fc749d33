"""Settings → Generation speed: the fast-path switches are saved to the settings file."""

from __future__ import annotations

import json


def test_speed_switches_are_saved(studio_window, qtbot, paths) -> None:
    window = studio_window
    window.show_section("settings")
    box = window.page("settings").speed
    fast = window.ctx.settings.generation.fast_path
    assert box.combos["enabled"].currentData() == fast.enabled == "auto"
    box.combos["draft_cache"].setCurrentIndex(box.combos["draft_cache"].findData("mag"))
    box.combos["compile"].setCurrentIndex(box.combos["compile"].findData("off"))
    assert (fast.draft_cache, fast.compile) == ("mag", "off")
    saved = json.loads(paths.settings_file.read_text(encoding="utf-8"))
    assert saved["generation"]["fast_path"]["draft_cache"] == "mag"
    assert saved["generation"]["fast_path"]["compile"] == "off"
