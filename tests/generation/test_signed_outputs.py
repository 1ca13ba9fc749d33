"""Every generated image is signed before it is stored: the real c2pa library, the real
keyring (identity keys and the wallet), the tiny real pipeline."""

from __future__ import annotations

import json

from studio.cli import main
from studio.core.library import Library
from studio.core.provenance.reader import read_report
from studio.core.provenance.report import COMPOSITE_TRAINED, TRAINED, ProvenanceState

ANVIL0_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ANVIL0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def generate(model, capsys, *extra: str) -> list[dict]:
    rc = main(["generate", "--model", str(model), "--prompt", "a signed boat", "--seed", "5",
               "--steps", "2", "--size", "64x64", "--json", *extra])
    assert rc == 0
    return json.loads(capsys.readouterr().out)["outputs"]


def test_cli_output_is_signed_without_a_wallet(tiny_model, capsys, keyring_ok) -> None:
    [out] = generate(tiny_model, capsys)
    report = read_report(out["path"])
    assert report.state == ProvenanceState.VALID, report.failures
    assert report.digital_source_type == TRAINED
    assert report.generation is not None
    assert "a signed boat" in json.dumps(report.generation)
    assert report.attestation is None  # no wallet yet: no binding, still signed


def test_output_is_bound_to_the_active_wallet(tiny_model, paths, capsys, keyring_ok) -> None:
    from studio.core.settings import SettingsStore
    from studio.core.wallet.service import WalletService

    service = WalletService(SettingsStore(paths.settings_file))
    service.import_private_key(ANVIL0_KEY, "Main")
    service.set_active(ANVIL0)
    [out] = generate(tiny_model, capsys)
    report = read_report(out["path"])
    assert report.state == ProvenanceState.VALID, report.failures
    assert report.attestation is not None
    assert report.attestation["address"] == ANVIL0 and report.attestation["matches"]


def test_img2img_names_its_source_as_parent(tiny_model, paths, capsys, keyring_ok) -> None:
    [source] = generate(tiny_model, capsys)
    [edited] = generate(tiny_model, capsys, "--init", str(source["asset_id"]), "--strength", "0.5")
    report = read_report(edited["path"])
    assert report.state == ProvenanceState.VALID, report.failures
    assert report.digital_source_type == COMPOSITE_TRAINED
    assert sorted(i.relationship for i in report.ingredients) == ["inputTo", "parentOf"]
    [model] = [i for i in report.ingredients if i.relationship == "inputTo"]
    assert model.sha256 == edited_request(paths, edited)["model_sha256"]
    with Library.open(paths) as lib:
        assert lib.get(source["asset_id"]) is not None  # the source stays in the library


def edited_request(paths, output: dict) -> dict:
    from studio.core.generation.output import generation_record

    with Library.open(paths) as lib:
        return generation_record(lib, output["asset_id"])["request"].to_dict()
