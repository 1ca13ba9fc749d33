"""The inspector on a dropped stripped copy whose original is in ANOTHER library (issue 20):
its watermark is looked up on the active chain profile (through the runner and the studio's
chain session, not in the widget) and the token its mint recorded is shown. Real anvil, real
signer and watermark, real keyring; nothing is mocked."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from studio.core.chain.anvil_binary import find_anvil
from studio.core.chain.mint import MintWorkflow
from studio.core.chain.plan import MintPlan, SplitEntry
from studio.core.chain.sandbox import fund_account
from studio.core.chain.txmanager import TransactionManager
from studio.core.library import Library
from studio.core.library.models import AssetOrigin
from studio.core.paths import resolve_paths
from studio.core.provenance import watermark as wm
from studio.core.settings import SettingsStore
from tests.chain.mint_support import (  # noqa: F401  (fixture)
    ONE_ETH,
    add_local_profile,
    keyring_service,
    make_wallet,
)
from tests.chain.test_durable_recovery import strip
from tests.provenance.conftest import REQUEST
from tests.provenance.test_durable_credentials import photo_like

pytestmark = [
    pytest.mark.skipif(find_anvil() is None, reason="anvil not installed (npm ci in contracts/)"),
    pytest.mark.skipif(not wm.available(), reason="blind-watermark not installed"),
]


def _rows(panel) -> dict[str, str]:
    """The summary's rows, full values (the labels elide long ones)."""
    form, out = panel.summary, {}
    for row in range(form.rowCount()):
        label = form.itemAt(row, form.ItemRole.LabelRole)
        field = form.itemAt(row, form.ItemRole.FieldRole)
        if label and field:
            out[label.widget().text()] = getattr(field.widget(), "full_text",
                                                 field.widget().text())
    return out


async def _mint(paths, profile, url: str, me, asset_id: int):
    with Library.open(paths) as library:
        async with TransactionManager(library, profile, url) as tm:
            flow = MintWorkflow(library, tm, me, poll_interval=0.05)
            plan = MintPlan(asset_id=asset_id, title="Harbour at dawn",
                            new_collection=("Harbours", "HRB"),
                            split=(SplitEntry(me.address, Decimal(100)),))
            return await flow.run(flow.create(plan).id)


def test_inspector_shows_the_token_of_a_copy_from_another_library(
        qtbot, anvil, paths, tmp_path, monkeypatch) -> None:
    from studio.app import create_context
    from studio.core.chain.profiles import ChainProfiles
    from studio.core.provenance.signing import make_generation_signer
    from studio.ui.inspector import InspectorPanel

    me = make_wallet(paths)
    asyncio.run(fund_account(anvil.url, me.address, 10 * ONE_ETH))
    profile = add_local_profile(paths, anvil.url)
    settings = SettingsStore(paths.settings_file).load().settings
    signed = make_generation_signer(paths, settings, me)(photo_like(256, 21), REQUEST, 1)
    with Library.open(paths) as library:
        asset, _ = library.add_bytes(signed, suffix=".png", origin=AssetOrigin.GENERATED,
                                     media_type="image/png", title="Harbour at dawn")
    minted = asyncio.run(_mint(paths, profile, anvil.url, me, asset.id))
    assert minted.soft_binding_id == wm.decode_bytes(signed).payload.hex()

    # Another machine: a library that never saw the original, its chain profile active.
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "elsewhere"))
    other = resolve_paths().ensure()
    theirs = add_local_profile(other, anvil.url)
    store = SettingsStore(other.settings_file)
    s = store.load().settings
    ChainProfiles(s).use(theirs.id)
    store.save(s)

    ctx = create_context(other)
    panel = InspectorPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    dropped, _ = ctx.library.add_bytes(strip(signed), suffix=".jpg",
                                       origin=AssetOrigin.IMPORTED, media_type="image/jpeg",
                                       original_name="reposted.jpg")
    with qtbot.waitSignal(panel.chain_checked, timeout=180000) as got:
        panel.show_asset(dropped)
    rec, token = got.args
    assert not rec.found and rec.source is None  # not in this library...
    assert token is not None and token.token_id == minted.token_id  # ...but on chain
    assert token.collection == minted.collection
    text = panel.state_label.text()
    assert f"its watermark {rec.watermark_id:08x} leads to token 0x" in text, text
    assert "on Local anvil" in text
    rows = _rows(panel)
    assert rows["Owner"] == me.address and rows["Token URI"] == minted.token_uri
    assert rows["Token"] == str(minted.token_id) and "Harbours" in rows["Collection"]
    ctx.close()
