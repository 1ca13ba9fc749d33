"""Trust: the shipped C2PA trust lists, refreshing them from a file, trusting one signer, the
TSA setting, and bringing your own CA-issued certificate (key in the keyring only)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from studio.cli import main
from tests.provenance.conftest import REQUEST, _require_keyring, image_bytes
from tests.provenance.pki import CA, key_pem, pem, sign_with


def _manifest():
    from studio.core.provenance.signing import generation_manifest

    return generation_manifest(REQUEST, 1, binding=None, policy="notAllowed", img2img=False)


def _verify_state(path: Path, capsys) -> str:
    capsys.readouterr()
    main(["verify", "--json", str(path)])
    return json.loads(capsys.readouterr().out)["state"]


def test_official_lists_are_default_anchors_and_attributed():
    from cryptography import x509

    from studio.core.about import bundled_components
    from studio.core.provenance.trust import anchors_for
    from studio.core.settings import ProvenanceSettings

    prov = ProvenanceSettings()
    anchors = anchors_for(prov).anchors
    certs = x509.load_pem_x509_certificates(anchors.encode())
    names = {c.subject.rfc4514_string() for c in certs}
    assert len(certs) >= 50  # claim-signing CAs and TSAs
    assert any("DigiCert RSA4096 TSA ICA for C2PA G1" in n for n in names)
    assert any("Google C2PA Root CA G3" in n for n in names)
    prov.official_trust_lists = False
    assert anchors_for(prov).anchors is None
    assert any("C2PA Trust List" in c.name and c.license == "CC-BY-4.0"
               for c in bundled_components())


def test_refreshed_list_replaces_the_shipped_one(tmp_path, capsys, paths):
    ca = CA.make("New Conformant CA")
    key, cert = ca.issue("Newly listed signer")
    signed = tmp_path / "a.png"
    signed.write_bytes(sign_with(image_bytes("PNG"), _manifest(), key, cert, ca))
    assert _verify_state(signed, capsys) == "valid"
    listing = tmp_path / "C2PA-TRUST-LIST.pem"
    listing.write_text(pem(ca.cert))
    assert main(["identity", "trust-lists", str(listing)]) == 0
    assert "1 certificates" in capsys.readouterr().out
    assert _verify_state(signed, capsys) == "trusted"
    junk = tmp_path / "junk.pem"
    junk.write_text("not a list")
    assert main(["identity", "trust-lists", str(junk)]) == 1
    assert "no PEM certificate" in capsys.readouterr().err


def test_trust_this_signer_trusts_that_certificate_only(tmp_path, capsys):
    ca = CA.make("Somebody's CA")
    k1, c1 = ca.issue("Alice")
    k2, c2 = ca.issue("Alice's colleague")
    one, two = tmp_path / "one.png", tmp_path / "two.png"
    one.write_bytes(sign_with(image_bytes("PNG"), _manifest(), k1, c1, ca))
    two.write_bytes(sign_with(image_bytes("PNG"), _manifest(), k2, c2, ca))
    assert main(["identity", "trust-signer", "--yes", str(one)]) == 0
    out = capsys.readouterr().out
    assert "CN=Alice" in out and "exact certificate" in out
    assert _verify_state(one, capsys) == "trusted"
    assert _verify_state(two, capsys) == "valid"  # same issuer, other certificate


def test_trust_signer_refuses_a_tampered_file(tmp_path, capsys):
    from tests.provenance.test_sign_verify import _flip_pixel_byte

    ca = CA.make("CA")
    key, cert = ca.issue("Signer")
    bad = tmp_path / "bad.png"
    bad.write_bytes(_flip_pixel_byte(sign_with(image_bytes("PNG"), _manifest(), key, cert,
                                               ca)))
    assert main(["identity", "trust-signer", "--yes", str(bad)]) == 1
    assert "no intact content credentials" in capsys.readouterr().err


def test_tsa_setting_is_validated(capsys):
    assert main(["identity", "tsa"]) == 0
    assert "(none" in capsys.readouterr().out  # no time-stamping unless the user picks one
    assert main(["identity", "tsa", "timestamp.example"]) == 2
    assert main(["identity", "tsa", "http://timestamp.digicert.com"]) == 0
    capsys.readouterr()
    assert main(["identity", "tsa"]) == 0
    assert capsys.readouterr().out.strip() == "http://timestamp.digicert.com"
    assert main(["identity", "tsa", "none"]) == 0


def test_bring_your_own_pkcs12_certificate(tmp_path, capsys, monkeypatch, paths, settings,
                                           account, studio_home):
    _require_keyring()
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    from studio.core.provenance.reader import read_report_bytes
    from studio.core.provenance.signing import make_generation_signer

    ca = CA.make("Conformant CA")
    key, cert = ca.issue("Ada Lovelace (CA-issued)")
    p12 = tmp_path / "ada.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"ada", key, cert, [ca.cert], BestAvailableEncryption(b"s3cret pass")))
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong\n"))
    assert main(["identity", "import-cert", str(p12), "--password-stdin"]) == 1
    assert "password" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret pass\n"))
    assert main(["identity", "import-cert", str(p12), "--password-stdin"]) == 0
    p12.unlink()  # the studio keeps no copy of the key
    stored = [p for p in studio_home.rglob("*") if p.is_file()
              and b"PRIVATE KEY" in p.read_bytes()]
    assert stored == []
    signed = make_generation_signer(paths, settings, account)(image_bytes("PNG"), REQUEST, 1)
    report = read_report_bytes(signed, pem(ca.cert))
    assert report.state.value == "trusted"
    assert report.signer == "Ada Lovelace (CA-issued)"
    assert report.attestation["matches"] is True
    assert main(["identity", "show"]) == 0
    assert "imported" in capsys.readouterr().out
    assert main(["identity", "use-studio"]) == 0
    again = read_report_bytes(
        make_generation_signer(paths, settings, account)(image_bytes("PNG"), REQUEST, 2))
    assert again.signer == "Ada Lovelace"  # the studio identity again


def test_bring_your_own_pem_pair_checks_the_key(tmp_path, capsys):
    _require_keyring()
    ca = CA.make("CA")
    key, cert = ca.issue("Someone")
    other_key, _ = ca.issue("Someone else")
    chain = tmp_path / "chain.pem"
    chain.write_text(pem(cert) + pem(ca.cert))
    wrong = tmp_path / "wrong.key"
    wrong.write_text(key_pem(other_key))
    assert main(["identity", "import-cert", str(chain), "--key", str(wrong)]) == 1
    assert "does not belong" in capsys.readouterr().err
    right = tmp_path / "right.key"
    right.write_text(key_pem(key))
    assert main(["identity", "import-cert", str(chain), "--key", str(right)]) == 0
    ca_only = tmp_path / "ca.pem"
    ca_only.write_text(pem(ca.cert))
    assert main(["identity", "import-cert", str(ca_only), "--key", str(right)]) == 1
