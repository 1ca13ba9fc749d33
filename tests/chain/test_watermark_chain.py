"""Durable credentials through the chain (issue 20): the mint records the asset's own watermark
(its manifest's soft binding) in the ContentMinted event and the token metadata, and a stripped
copy verified in a FRESH studio home (the original is not in its library) finds the token by
that event and, with --fetch-metadata, the signed original through the token's ipfs:// metadata.

Real anvil, real tiny diffusers generation, real c2pa and blind-watermark, real keyring. The
one fake is the IPFS gateway (FakeIpfsGateway: a local HTTP server serving blocks by CID),
since remote IPFS cannot be reached here."""

from __future__ import annotations

import asyncio
import base64
import json
from decimal import Decimal

import pytest

from studio.core.chain.anvil_binary import find_anvil
from studio.core.chain.sandbox import fund_account
from studio.core.library import Library
from studio.core.paths import resolve_paths
from studio.core.provenance import watermark as wm
from tests.chain.mint_support import (  # noqa: F401  (fixture)
    ONE_ETH,
    add_local_profile,
    keyring_service,
    make_wallet,
    mint_as_stranger,
)
from tests.chain.test_durable_recovery import generate_signed, strip
from tests.provenance.test_durable_credentials import photo_like
from tests.publish.fake_gateway import FakeIpfsGateway

pytestmark = [
    pytest.mark.skipif(find_anvil() is None, reason="anvil not installed (npm ci in contracts/)"),
    pytest.mark.skipif(not wm.available(), reason="blind-watermark not installed"),
]


@pytest.fixture
def gateway():
    with FakeIpfsGateway() as g:
        yield g


def fresh_home(tmp_path, monkeypatch, anvil_url: str, name: str = "Local anvil"):
    """Another studio home (another machine's library), with a profile on the same anvil."""
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "elsewhere"))
    paths = resolve_paths().ensure()
    return add_local_profile(paths, anvil_url, name=name)


def test_stripped_copy_finds_its_token_and_signer_from_another_library(
        anvil, paths, tiny_model, tmp_path, monkeypatch, gateway, capsys) -> None:
    from studio.cli import main
    from studio.core.chain.durable import asset_soft_binding
    from studio.core.provenance.reader import read_report

    me = make_wallet(paths)
    asyncio.run(fund_account(anvil.url, me.address, 10 * ONE_ETH))
    profile = add_local_profile(paths, anvil.url)
    with Library.open(paths) as library:
        asset = generate_signed(paths, library, me, tiny_model)
        own = asset_soft_binding(library, asset)
        original = library.path_of(asset).read_bytes()
        signer = read_report(library.path_of(asset)).signer
    assert own is not None and signer
    # The manifest's soft binding is what the pixels carry.
    assert wm.decode_bytes(original).payload == own.value

    capsys.readouterr()
    assert main(["mint", str(asset.id), "--chain", profile.id, "--yes", "--json"]) == 0
    minted = json.loads(capsys.readouterr().out)
    token_id = minted["token_id"]
    assert minted["soft_binding_id"] == own.value.hex()  # recorded without being typed
    meta = json.loads(minted_metadata(paths, asset.id))
    assert meta["properties"]["c2pa_soft_binding"] == {
        "alg": own.algorithm, "value": base64.b64encode(own.value).decode()}
    # What a pinning service would hold: the metadata and the signed file, by CID.
    assert f"ipfs://{gateway.add(original)}" == meta["image"]
    assert f"ipfs://{gateway.add(minted_metadata(paths, asset.id).encode())}" == \
        minted["token_uri"]

    stripped = tmp_path / "reposted.jpg"
    stripped.write_bytes(strip(original))
    fresh = fresh_home(tmp_path, monkeypatch, anvil.url)

    # The chain alone: the token, no network beyond the RPC endpoint.
    code = main(["verify", str(stripped), "--chain", fresh.id])
    out = capsys.readouterr().out
    assert code == 2, out
    assert f"leads to token {token_id}, but its credentials were not fetched" in out, out
    assert "Run again with --fetch-metadata" in out
    assert minted["collection"] in out and minted["token_uri"] in out
    assert gateway.requests == []

    # With network allowed: metadata and the minted file through the (fake) gateway.
    code = main(["verify", str(stripped), "--chain", fresh.id, "--fetch-metadata",
                 "--ipfs-gateway", gateway.url])
    out = capsys.readouterr().out
    assert code == 2, out
    assert (f"its watermark leads to a harbour at noon signed by {signer}, minted as token "
            f"{token_id}; the pixels differ from the original by") in out, out
    assert "(re-encoded)." in out

    code = main(["verify", str(stripped), "--chain", fresh.id, "--fetch-metadata",
                 "--ipfs-gateway", gateway.url, "--json"])
    data = json.loads(capsys.readouterr().out)
    rec = data["recovery"]
    assert rec["found"] and rec["source"] == "chain" and rec["signer"] == signer
    assert rec["original_path"] == meta["image"] and rec["asset_id"] is None
    assert rec["original_sha256"] == asset.sha256 and rec["minted"]
    # JPEG q75 of the tiny model's noisy output: ~23 dB; an unrelated image would be ~10.
    assert rec["difference"]["psnr_db"] > 18 and rec["difference"]["resized_from"] is None
    assert rec["token_metadata"]["name"] == "a harbour at noon"
    assert data["token"]["token_id"] == token_id
    assert data["token"]["content_hash"] == asset.sha256

    # A gateway that serves other bytes for the file's CID is caught, not believed.
    gateway.tamper[meta["image"].removeprefix("ipfs://")] = strip(original)
    code = main(["verify", str(stripped), "--chain", fresh.id, "--fetch-metadata",
                 "--ipfs-gateway", gateway.url])
    out = capsys.readouterr().out
    assert "do not match the CID" in out and "signed by" not in out, out


def minted_metadata(paths, asset_id: int) -> str:
    from studio.core.chain.mintstore import MintStore

    with Library.open(paths) as library:
        (rec,) = MintStore(library).for_asset(asset_id, 31337)
        return rec.metadata_json


def test_mint_refuses_a_soft_binding_that_is_not_the_files(anvil, paths, tmp_path,
                                                           capsys) -> None:
    from studio.cli import main
    from studio.core.chain.mintstore import MintStore
    from studio.core.library.models import AssetOrigin
    from studio.core.provenance.signing import make_generation_signer
    from studio.core.settings import SettingsStore
    from tests.provenance.conftest import REQUEST

    me = make_wallet(paths)
    asyncio.run(fund_account(anvil.url, me.address, 10 * ONE_ETH))
    profile = add_local_profile(paths, anvil.url)
    settings = SettingsStore(paths.settings_file).load().settings
    signed = make_generation_signer(paths, settings, me)(photo_like(256, 4), REQUEST, 1)
    with Library.open(paths) as library:
        asset, _ = library.add_bytes(signed, suffix=".png", origin=AssetOrigin.GENERATED,
                                     media_type="image/png", title="marked")
    own = wm.decode_bytes(signed).payload

    capsys.readouterr()
    code = main(["mint", str(asset.id), "--chain", profile.id, "--yes",
                 "--soft-binding", "ab" * 8])
    err = capsys.readouterr().err
    assert code != 0
    assert f"is not this file's: its credentials declare {own.hex()}" in err, err
    with Library.open(paths) as library:
        assert MintStore(library).for_asset(asset.id, profile.chain_id) == []  # no draft

    # The file's own id given explicitly is the same thing: accepted.
    assert main(["mint", str(asset.id), "--chain", profile.id, "--yes", "--json",
                 "--soft-binding", own.hex()]) == 0
    assert json.loads(capsys.readouterr().out)["soft_binding_id"] == own.hex()


def test_a_file_that_never_came_from_the_studio_leads_nowhere(anvil, paths, tmp_path,
                                                             monkeypatch, capsys) -> None:
    from studio.cli import main

    photo = tmp_path / "somebody-elses.jpg"
    photo.write_bytes(strip(photo_like(256, 11)))
    fresh = fresh_home(tmp_path, monkeypatch, anvil.url)
    capsys.readouterr()
    code = main(["verify", str(photo), "--chain", fresh.id, "--fetch-metadata", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 2
    assert data["recovery"]["watermark"] is None and not data["recovery"]["found"]
    assert data["token"] is None
    code = main(["verify", str(photo), "--chain", fresh.id])
    out = capsys.readouterr().out
    assert "no studio watermark either" in out and "no token holds this exact file" in out


def forger_mints(url: str, factory: str, soft_binding: bytes, token_uri: str) -> tuple[str, int]:
    """Someone else mints ANOTHER file into their own collection, recording a watermark id
    that is not that file's."""
    import hashlib

    return mint_as_stranger(url, factory, account=7, name="Claims", token_uri=token_uri,
                            content_hash=hashlib.sha256(b"the forger's own file").digest(),
                            soft_binding=soft_binding)


def test_a_token_claiming_anothers_watermark_does_not_hide_the_real_one(
        anvil, paths, tmp_path, monkeypatch, gateway, capsys) -> None:
    from studio.cli import main
    from studio.core.chain.deploy import ensure_factories
    from studio.core.chain.mint import MintWorkflow
    from studio.core.chain.plan import MintPlan, SplitEntry
    from studio.core.chain.txmanager import TransactionManager
    from studio.core.library.models import AssetOrigin
    from studio.core.provenance.signing import make_generation_signer
    from studio.core.settings import SettingsStore
    from tests.provenance.conftest import REQUEST

    me = make_wallet(paths)
    asyncio.run(fund_account(anvil.url, me.address, 10 * ONE_ETH))
    profile = add_local_profile(paths, anvil.url)
    settings = SettingsStore(paths.settings_file).load().settings
    signed = make_generation_signer(paths, settings, me)(photo_like(256, 7), REQUEST, 1)
    payload = wm.decode_bytes(signed).payload
    image_uri = f"ipfs://{gateway.add(signed)}"
    # The forger's metadata even names the real signed file; its token's hash is another's.
    forged_uri = "ipfs://" + gateway.add(json.dumps({"name": "Mine now",
                                                     "image": image_uri}).encode())

    async def mint_after_the_forger():
        with Library.open(paths) as library:
            asset, _ = library.add_bytes(signed, suffix=".png", origin=AssetOrigin.GENERATED,
                                         media_type="image/png", title="The real one")
            async with TransactionManager(library, profile, anvil.url) as tm:
                factories = await ensure_factories(tm, me, library)
                forged = await asyncio.to_thread(forger_mints, anvil.url,
                                                 factories.collection_factory, payload,
                                                 forged_uri)
                flow = MintWorkflow(library, tm, me, poll_interval=0.05)
                plan = MintPlan(asset_id=asset.id, title="The real one",
                                new_collection=("Real", "REAL"),
                                split=(SplitEntry(me.address, Decimal(100)),))
                rec = await flow.run(flow.create(plan).id)
                gateway.add(rec.metadata_json.encode())
                return forged, rec

    (forged_collection, forged_token), real = asyncio.run(mint_after_the_forger())
    assert real.soft_binding_id == payload.hex()
    copy = tmp_path / "reposted.jpg"
    copy.write_bytes(strip(signed))
    fresh = fresh_home(tmp_path, monkeypatch, anvil.url)

    capsys.readouterr()
    main(["verify", str(copy), "--chain", fresh.id])  # without network: leads only
    out = capsys.readouterr().out
    assert f"leads to token {forged_token}" in out  # the earliest claim...
    assert f"copy         {real.collection}" in out  # ...and the real mint, listed

    main(["verify", str(copy), "--chain", fresh.id, "--fetch-metadata", "--ipfs-gateway",
          gateway.url, "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["recovery"]["found"] and data["recovery"]["original_title"] == "The real one"
    assert data["token"]["token_id"] == str(real.token_id)
    assert data["token"]["collection"] == real.collection != forged_collection
