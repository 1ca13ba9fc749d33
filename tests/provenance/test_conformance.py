"""C2PA 2.x conformance of what the studio writes, and ``studio verify --json`` status codes."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

from studio.cli import main
from tests.provenance.conftest import REQUEST, _require_keyring, image_bytes

# Actions that need no digitalSourceType (conformance v0.2); every other one must carry it.
_EXEMPT = {"c2pa.converted", "c2pa.edited.metadata", "c2pa.enhanced", "c2pa.opened",
           "c2pa.placed", "c2pa.published", "c2pa.redacted", "c2pa.repackaged",
           "c2pa.resized.proportional", "c2pa.transcoded", "c2pa.watermarked",
           "c2pa.watermarked.bound", "c2pa.watermarked.unbound"}


def _active_crjson(data: bytes, mime: str) -> dict:
    import c2pa

    with c2pa.Reader.try_create(mime, io.BytesIO(data)) as reader:
        label = json.loads(reader.json())["active_manifest"]
        return next(m for m in json.loads(reader.crjson())["manifests"]
                    if m["label"] == label)


def _check_claim(manifest: dict) -> list[dict]:
    claim = manifest["claim.v2"]
    assert claim["claim_generator_info"]["name"] == "Provenance Studio"
    assert claim["claim_generator_info"]["specVersion"] == "2.2"
    created = [a["url"].rsplit("/", 1)[-1] for a in claim["created_assertions"]]
    assert "c2pa.actions.v2" in created
    actions = manifest["assertions"]["c2pa.actions.v2"]
    assert actions["allActionsIncluded"] is True
    for action in actions["actions"]:
        if action["action"] == "c2pa.opened":
            assert "digitalSourceType" not in action
        elif action["action"] not in _EXEMPT:
            assert action["digitalSourceType"].startswith(
                "http://cv.iptc.org/newscodes/digitalsourcetype/"), action
    return actions["actions"]


def test_generated_img2img_and_attested_manifests_conform(sign, tmp_path, paths, settings,
                                                          account):
    from studio.core.provenance.attest import attest_bytes

    plain = sign(image_bytes("PNG"), REQUEST, 1)
    assert [a["action"] for a in _check_claim(_active_crjson(plain, "image/png"))] == [
        "c2pa.created"]
    parent = tmp_path / "src.png"
    parent.write_bytes(image_bytes("PNG"))
    edited = sign(image_bytes("JPEG"), dict(REQUEST, init_image=str(parent)), 2)
    assert [a["action"] for a in _check_claim(_active_crjson(edited, "image/jpeg"))] == [
        "c2pa.opened", "c2pa.edited"]
    attested = attest_bytes(image_bytes("WEBP"), "x.webp", paths, settings, account)
    assert [a["action"] for a in _check_claim(_active_crjson(attested, "image/webp"))] == [
        "c2pa.opened"]


def test_creator_certificate_follows_the_claim_signing_leaf_profile(paths, account):
    _require_keyring()
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from studio.core.provenance.identity import IdentityManager

    ident = IdentityManager(paths).ensure("Ada Lovelace", account.address)
    cert = x509.load_pem_x509_certificate(ident.cert_pem.encode())
    assert cert.version is x509.Version.v3
    ekus = {e.dotted_string for e in
            cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value}
    assert "1.3.6.1.4.1.62558.2.1" in ekus  # c2pa-kp-claimSigning
    assert ekus & {"1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.36"}
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.content_commitment
    assert not ku.value.key_cert_sign
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca is False
    assert cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    for oid in (NameOID.COUNTRY_NAME, NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
        assert cert.subject.get_attributes_for_oid(oid)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= dt.timedelta(days=366)


def test_certificate_is_renewed_before_expiry_and_the_wallet_rebinds(paths, settings, account,
                                                                     monkeypatch):
    _require_keyring()
    from studio.core.provenance import identity as identity_mod
    from studio.core.provenance.reader import read_report_bytes
    from studio.core.provenance.signing import make_generation_signer

    # A certificate issued with 10 days left (as one is, 355 days after issue).
    monkeypatch.setattr(identity_mod, "LEAF_DAYS", 10)
    signer = make_generation_signer(paths, settings, account)
    first = read_report_bytes(signer(image_bytes("PNG"), REQUEST, 1))
    monkeypatch.setattr(identity_mod, "LEAF_DAYS", 365)
    second = read_report_bytes(signer(image_bytes("PNG"), REQUEST, 2))
    assert first.attestation["matches"] and second.attestation["matches"]
    assert first.attestation["spki_sha256"] != second.attestation["spki_sha256"]  # new key
    fresh = identity_mod.IdentityManager(paths).current()
    assert not fresh.needs_renewal()
    # Re-reading the first file still works: its binding names the old key, which signed it.
    assert first.is_valid


def test_verify_json_carries_status_codes_per_manifest(sign, tmp_path: Path, capsys):
    from tests.provenance.test_sign_verify import _flip_pixel_byte

    good = tmp_path / "good.png"
    good.write_bytes(sign(image_bytes("PNG"), REQUEST, 1))
    bad = tmp_path / "bad.png"
    bad.write_bytes(_flip_pixel_byte(good.read_bytes()))
    assert main(["verify", "--json", str(good)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["validation_state"] == "Valid"
    (manifest,) = data["manifests"]
    assert manifest["label"] == data["manifest_label"]
    codes = {s["code"] for s in manifest["validation_results"]["success"]}
    assert {"claimSignature.validated", "assertion.dataHash.match"} <= codes
    assert [s["code"] for s in manifest["validation_results"]["failure"]] == [
        "signingCredential.untrusted"]
    active = data["validation_results"]["activeManifest"]
    assert {s["code"] for s in active["success"]} == codes
    assert main(["verify", "--json", str(bad)]) == 1
    data = json.loads(capsys.readouterr().out)
    failures = {s["code"] for s in data["manifests"][0]["validation_results"]["failure"]}
    assert "assertion.dataHash.mismatch" in failures
    assert data["validation_state"] == "Invalid"
