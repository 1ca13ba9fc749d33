"""Durable credentials on chain (issue 20): a generated image is minted on a real anvil; a
copy re-encoded as JPEG q75 with all metadata stripped is led by its watermark to the original
in the library and from there to its token (``studio verify --chain``)."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from eth_account import Account

from studio.core.chain.anvil_binary import find_anvil
from studio.core.chain.mint import MintWorkflow
from studio.core.chain.mintstore import MintState
from studio.core.chain.sandbox import fund_account
from studio.core.chain.txmanager import TransactionManager
from studio.core.library import Library
from studio.core.provenance import watermark as wm
from studio.core.settings import SettingsStore
from tests.chain.mint_support import (  # noqa: F401  (fixture)
    ONE_ETH,
    add_local_profile,
    keyring_service,
    make_wallet,
    three_way,
)

pytestmark = [
    pytest.mark.skipif(find_anvil() is None, reason="anvil not installed (npm ci in contracts/)"),
    pytest.mark.skipif(not wm.available(), reason="blind-watermark not installed"),
]


def generate_signed(paths, library, account, model_folder):
    from studio.core.generation.engine import GenerationEngine
    from studio.core.generation.request import GenerationRequest
    from studio.core.provenance.signing import make_generation_signer

    settings = SettingsStore(paths.settings_file).load().settings
    engine = GenerationEngine(library, sign=make_generation_signer(paths, settings, account))
    try:
        entry = engine.registry.add(model_folder)
        req = GenerationRequest(model_id=entry.id, model_sha256=entry.sha256,
                                model_name=entry.name, family=str(entry.family),
                                prompt="a harbour at noon", steps=2, width=256, height=256,
                                seed=3, guidance=5.0, scheduler="Euler")
        job = engine.wait(engine.enqueue(req), 300)
        assert job.assets, job.error
        return job.assets[0]
    finally:
        engine.shutdown()


def strip(data: bytes) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(buf, "JPEG", quality=75)
    return buf.getvalue()


async def test_stripped_copy_of_a_minted_image_finds_its_token(anvil, paths, tiny_model,
                                                               tmp_path, capsys) -> None:
    from studio.cli import main

    me = make_wallet(paths)
    await fund_account(anvil.url, me.address, 10 * ONE_ETH)
    profile = add_local_profile(paths, anvil.url)
    with Library.open(paths) as library:
        asset = await asyncio.to_thread(generate_signed, paths, library, me, tiny_model)
        async with TransactionManager(library, profile, anvil.url) as tm:
            flow = MintWorkflow(library, tm, me, poll_interval=0.05)
            plan = three_way(me.address, Account.create().address, Account.create().address,
                             asset_id=asset.id)
            done = await flow.run(flow.create(plan).id)
            assert done.state == MintState.MINTED, done.error
        original = library.path_of(asset)

    stripped = tmp_path / "reposted.jpg"
    stripped.write_bytes(strip(original.read_bytes()))

    capsys.readouterr()
    code = await asyncio.to_thread(main, ["verify", str(stripped), "--chain", profile.id])
    out = capsys.readouterr().out
    assert code == 2, out  # the copy has no credentials of its own...
    assert "its watermark leads to a harbour at noon" in out
    assert f"minted as token {done.token_id}" in out  # ...but its watermark finds the token
    assert done.collection in out

    code = await asyncio.to_thread(main, ["verify", str(stripped), "--chain", profile.id,
                                          "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["recovery"]["asset_id"] == asset.id and data["recovery"]["minted"]
    assert data["token"]["token_id"] == str(done.token_id)
    assert data["token"]["collection"] == done.collection

    # Without --chain the library still knows the original was minted.
    code = await asyncio.to_thread(main, ["verify", str(stripped)])
    assert "minted (use --chain PROFILE for the token)" in capsys.readouterr().out
