"""Settings → Content credentials (pytest-qt): the TSA choice is checked and saved; the
official trust lists can be switched off."""

from __future__ import annotations


def test_settings_tsa_and_official_lists(qtbot, paths):
    from studio.app import create_context
    from studio.core.settings import SettingsStore
    from studio.ui.provenance_settings import ProvenanceBox

    ctx = create_context(paths)
    box = ProvenanceBox(ctx)
    qtbot.addWidget(box)
    assert box.tsa.currentData() == ""  # no time-stamp authority by default
    box.tsa.setEditText("timestamp.example")  # no scheme
    box.tsa.lineEdit().editingFinished.emit()
    assert not box.tsa_error.isHidden() and "not an http(s) URL" in box.tsa_error.text()
    assert ctx.settings.provenance.tsa_url == ""
    box.tsa.setCurrentIndex(box.tsa.findData("http://timestamp.digicert.com"))
    box.tsa.activated.emit(box.tsa.currentIndex())
    assert box.tsa_error.isHidden()
    box.official.setChecked(False)
    saved = SettingsStore(paths.settings_file).load().settings.provenance
    assert saved.tsa_url == "http://timestamp.digicert.com"
    assert saved.official_trust_lists is False
    ctx.close()
