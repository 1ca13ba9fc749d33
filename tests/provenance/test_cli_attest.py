"""``studio verify`` exit codes, ``studio attest`` and ``studio identity``; core attest."""

from __future__ import annotations

import json
from pathlib import Path

from studio.cli import main
from studio.core.provenance.report import ProvenanceState
from tests.provenance.conftest import REQUEST, _require_keyring, image_bytes
from tests.provenance.test_sign_verify import _flip_pixel_byte


def test_verify_exit_codes(sign, tmp_path: Path, shared_media: Path, capsys):
    good = tmp_path / "good.png"
    good.write_bytes(sign(image_bytes("PNG"), REQUEST, 9))
    bad = tmp_path / "bad.png"
    bad.write_bytes(_flip_pixel_byte(good.read_bytes()))
    assert main(["verify", str(good)]) == 0
    assert "Ada Lovelace" in capsys.readouterr().out
    assert main(["verify", str(shared_media / "A.jpg")]) == 2
    assert main(["verify", str(tmp_path / "missing.jpg")]) == 3
    capsys.readouterr()
    assert main(["verify", str(bad)]) == 1
    assert "changed after it was signed" in capsys.readouterr().out
    assert main(["verify", "--json", str(good)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["state"] == "valid" and report["badge"] == "AI-generated"
    assert report["generation"]["seed"] == 9


def test_identity_export_and_trust_make_it_trusted(sign, tmp_path: Path, capsys):
    signed = tmp_path / "out.jpg"
    signed.write_bytes(sign(image_bytes("JPEG"), REQUEST, 1))
    root = tmp_path / "root.pem"
    assert main(["identity", "export-root", str(root)]) == 0
    assert main(["identity", "trust", str(root)]) == 0
    capsys.readouterr()
    assert main(["verify", "--json", str(signed)]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "trusted"


def test_trust_rejects_a_non_certificate(tmp_path: Path, capsys):
    junk = tmp_path / "junk.pem"
    junk.write_text("hello")
    assert main(["identity", "trust", str(junk)]) == 1
    assert "no PEM certificate" in capsys.readouterr().err


def test_attest_file_keeps_the_original(tmp_path: Path, shared_media: Path, capsys):
    _require_keyring()
    src = tmp_path / "photo.jpg"
    src.write_bytes((shared_media / "C.jpg").read_bytes())
    before = src.read_bytes()
    assert main(["attest", str(src)]) == 0
    assert src.read_bytes() == before
    copy = tmp_path / "photo.attested.jpg"
    assert main(["verify", "--json", str(copy)]) == 0
    report = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert report["ingredients"][0]["relationship"] == "parentOf"
    assert report["ingredients"][0]["title"] == "photo.jpg"
    # The original's own manifest survives inside the ingredient.
    assert report["ingredients"][0]["signer"] == "C2PA Signer"


def test_attest_unknown_asset_and_bad_file(tmp_path: Path, capsys):
    assert main(["attest", "9999"]) == 2
    assert "no asset 9999" in capsys.readouterr().err
    text = tmp_path / "a.txt"
    text.write_text("words")
    assert main(["attest", str(text)]) == 1
    assert "Only PNG, JPEG and WebP" in capsys.readouterr().err
    assert not (tmp_path / "a.attested.txt").exists()


def test_attest_asset_adds_an_attested_copy(paths, settings, account, shared_media):
    _require_keyring()
    from studio.core.library import Library
    from studio.core.library.models import AssetOrigin
    from studio.core.library.store import sha256_file
    from studio.core.provenance.attest import attest_asset
    from studio.core.provenance.reader import read_report

    with Library.open(paths) as lib:
        original, _ = lib.add_file(shared_media / "A.jpg", origin=AssetOrigin.IMPORTED,
                                   media_type="image/jpeg")
        new = attest_asset(paths, settings, lib, original, account)
        assert new.origin is AssetOrigin.ATTESTED and new.id != original.id
        assert sha256_file(lib.path_of(original)) == original.sha256
        report = read_report(lib.path_of(new))
        assert report.state is ProvenanceState.VALID
        assert report.manifest_label == new.manifest_label
        assert report.attestation["matches"] is True
        assert [i.relationship for i in report.ingredients] == ["parentOf"]
