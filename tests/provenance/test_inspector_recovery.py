"""The inspector on a dropped file without credentials (issue 20): its watermark is looked up
off the GUI thread and the panel says which signed original it leads to. Real signer, real
watermark, real library."""

from __future__ import annotations

import io

import pytest

from studio.core.library.models import AssetOrigin
from studio.core.provenance import watermark as wm
from tests.provenance.conftest import REQUEST
from tests.provenance.test_durable_credentials import photo_like, reencode

pytestmark = pytest.mark.skipif(not wm.available(), reason="blind-watermark not installed")


def _panel(qtbot, paths):
    from studio.app import create_context
    from studio.ui.inspector import InspectorPanel

    ctx = create_context(paths)
    panel = InspectorPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    return ctx, panel


def _summary(panel) -> dict[str, str]:
    form = panel.summary
    out = {}
    for row in range(form.rowCount()):
        label = form.itemAt(row, form.ItemRole.LabelRole)
        field = form.itemAt(row, form.ItemRole.FieldRole)
        if label and field:
            out[label.widget().text()] = field.widget().text()
    return out


def test_dropped_stripped_copy_leads_to_its_signed_original(qtbot, paths, sign):
    ctx, panel = _panel(qtbot, paths)
    signed = sign(photo_like(320, 9), REQUEST, 1)
    original, _ = ctx.library.add_bytes(signed, suffix=".png", origin=AssetOrigin.GENERATED,
                                        media_type="image/png", title="Harbour at dawn")
    dropped, _ = ctx.library.add_bytes(reencode(signed), suffix=".jpg",
                                       origin=AssetOrigin.IMPORTED, media_type="image/jpeg",
                                       original_name="reposted.jpg")
    with qtbot.waitSignal(panel.recovered, timeout=180000) as got:
        panel.show_asset(dropped)
    rec = got.args[0]
    assert rec.found and rec.asset_id == original.id
    assert panel.badge.text() == "No credentials"  # the copy itself carries none
    text = panel.state_label.text()
    assert "its watermark leads to Harbour at dawn signed by Ada Lovelace" in text
    assert "(re-encoded)" in text
    rows = _summary(panel)
    assert rows["Original"] == f"Harbour at dawn (asset {original.id})"
    assert rows["Signed by"] == "Ada Lovelace"
    ctx.close()


def test_a_plain_file_shows_no_watermark(qtbot, paths):
    from PIL import Image

    ctx, panel = _panel(qtbot, paths)
    buf = io.BytesIO()
    Image.open(io.BytesIO(photo_like(320, 10))).save(buf, "JPEG", quality=90)
    asset, _ = ctx.library.add_bytes(buf.getvalue(), suffix=".jpg",
                                     origin=AssetOrigin.IMPORTED, media_type="image/jpeg")
    with qtbot.waitSignal(panel.recovered, timeout=180000) as got:
        panel.show_asset(asset)
    assert got.args[0].watermark_id is None and not got.args[0].found
    assert panel.state_label.text() == ("No credentials in this file, and no studio watermark "
                                        "either.")
    assert "Original" not in _summary(panel)
    ctx.close()
