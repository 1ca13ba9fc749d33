"""Signing identity (real gnome-keyring) and the wallet binding."""

from __future__ import annotations

import pytest

from studio.core.provenance.identity import KEYRING_SERVICE, IdentityError, IdentityManager
from studio.core.provenance.reader import read_report_bytes
from studio.core.provenance.report import ProvenanceState
from tests.provenance.conftest import REQUEST, _require_keyring, image_bytes


@pytest.fixture
def identity(paths, account):
    _require_keyring()
    return IdentityManager(paths).ensure("Ada Lovelace", account.address)


def test_certificate_profile_follows_c2pa_rules(identity, account):
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    cert = x509.load_pem_x509_certificate(identity.cert_pem.encode())
    root = x509.load_pem_x509_certificate(identity.root_pem.encode())
    ext = cert.extensions
    assert ext.get_extension_for_class(x509.BasicConstraints).value.ca is False
    ku = ext.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and not ku.key_cert_sign
    eku = ext.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    assert ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    root_ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == root_ski.digest
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Ada Lovelace"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    san = ext.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [
        f"did:pkh:eip155:1:{account.address}"]
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert cert.not_valid_after_utc <= root.not_valid_after_utc


def test_private_keys_live_only_in_the_keyring(identity, studio_home):
    import keyring

    on_disk = [p for p in studio_home.rglob("*") if p.is_file()
               and b"PRIVATE KEY" in p.read_bytes()]
    assert on_disk == []
    from cryptography import x509

    from studio.core.provenance.identity import _key_name

    cert = x509.load_pem_x509_certificate(identity.cert_pem.encode())
    stored = keyring.get_password(KEYRING_SERVICE, _key_name("leaf", cert.public_key()))
    assert stored is not None and "PRIVATE KEY" in stored


def test_ensure_reuses_and_reissues_for_a_new_wallet(paths, identity, other_account):
    mgr = IdentityManager(paths)
    assert mgr.ensure("Ada Lovelace", identity.describe()["did"].rsplit(":", 1)[-1]) == identity
    moved = mgr.ensure("Ada Lovelace", other_account.address)
    assert moved.cert_pem != identity.cert_pem
    assert moved.root_pem == identity.root_pem
    assert other_account.address in moved.describe()["did"]


def test_rotate_issues_new_cert_and_deletes_old_key(paths, identity, account, settings):
    import keyring
    from cryptography import x509

    from studio.core.provenance.identity import _key_name
    from studio.core.provenance.signing import make_generation_signer

    old = x509.load_pem_x509_certificate(identity.cert_pem.encode())
    new = IdentityManager(paths).rotate("Ada Lovelace", account.address)
    assert new.describe()["serial"] != str(old.serial_number)
    assert keyring.get_password(KEYRING_SERVICE, _key_name("leaf", old.public_key())) is None
    report = read_report_bytes(make_generation_signer(paths, settings, account)(
        image_bytes("PNG"), REQUEST, 1))
    assert report.state is ProvenanceState.VALID
    assert report.attestation["matches"] is True


def test_export_root(paths, identity, tmp_path):
    dest = IdentityManager(paths).export_root(tmp_path / "root.pem")
    assert dest.read_text() == identity.root_pem


def test_no_keyring_fails_clearly_and_writes_nothing(paths, studio_home):
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(IdentityError, match="No OS keyring"):
            IdentityManager(paths).ensure("Ada", None)
    finally:
        keyring.set_keyring(previous)
    assert not IdentityManager(paths).exists()
    assert [p for p in studio_home.rglob("*.pem")] == []


def test_binding_by_a_different_wallet_does_not_match(paths, identity, account, other_account):
    from studio.core.provenance.attestation import make_binding, typed_data
    from studio.core.provenance.signing import generation_manifest, sign_bytes

    # The statement names the creator's wallet, but another wallet signed it.
    forged = make_binding(other_account, identity.cert_pem)
    msg = forged["typed_data"]["message"]
    forged_data = typed_data(account.address, msg["spkiSha256"][2:], msg["certIssuer"],
                             int(msg["certSerial"]), 1_700_000_000)
    forged["typed_data"] = forged_data
    forged["signature"] = "0x" + bytes(
        other_account.sign_typed_data(full_message=forged_data).signature).hex()
    manifest = generation_manifest(REQUEST, 1, binding=forged, policy="allowed", img2img=False)
    report = read_report_bytes(sign_bytes(image_bytes("PNG"), manifest, identity))
    assert report.state is ProvenanceState.VALID  # the C2PA signature itself is fine
    assert report.attestation["matches"] is False
    assert report.attestation["recovered"] == other_account.address
    assert "signed by" in report.attestation["reason"]


def test_binding_for_another_certificate_does_not_match(paths, identity, account, tmp_path):
    from studio.core.paths import StudioPaths
    from studio.core.provenance.attestation import make_binding
    from studio.core.provenance.signing import generation_manifest, sign_bytes

    other = StudioPaths(*(tmp_path / "o" / d for d in "cdkl")).ensure()
    other_ident = IdentityManager(other).ensure("Mallory", account.address)
    copied = make_binding(account, other_ident.cert_pem)  # genuine, but for another key
    manifest = generation_manifest(REQUEST, 1, binding=copied, policy="allowed", img2img=False)
    report = read_report_bytes(sign_bytes(image_bytes("PNG"), manifest, identity))
    assert report.attestation["matches"] is False
    assert "different signing" in report.attestation["reason"]


def test_malformed_binding_is_reported_not_raised():
    from studio.core.provenance.attestation import verify_binding

    result = verify_binding({"typed_data": {"message": {}}}, None)
    assert result["matches"] is False and "malformed" in result["reason"]
